import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { CoreV1Api } from '@kubernetes/client-node';
import { createS3Client, findKey, loadConfig } from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';
import { OperatorHarness, TenantApi, metricValue, s3Env, type OperatorProcess } from '../support/operator.ts';
import { eventually } from '../support/poll.ts';

const TENANTS = 30;

describe('operator restarts and failover (kube-apiserver, PostgreSQL, MinIO)', () => {
  const namespace = uniqueName('res');
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const tenants = new TenantApi(namespace);
  let db: TestDatabase;
  let harness: OperatorHarness;
  const running: OperatorProcess[] = [];

  const start = async (identity: string) => {
    const operator = await harness.start(identity);
    running.push(operator);
    return operator;
  };
  const kill = async (operator: OperatorProcess) => {
    const exited = once(operator.child, 'exit');
    operator.child.kill('SIGKILL');
    await exited;
  };
  const secretKey = async (name: string) => {
    const data = (await core.readNamespacedSecret({ name, namespace })).data!;
    return Buffer.from(data.apiKey!, 'base64').toString();
  };

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
    db = await databaseBackends[0].create();
    harness = new OperatorHarness({ namespace, databaseUrl: db.url, publicUrl: 'https://files.example.com' });
  });
  after(async () => {
    for (const operator of running) await operator.stop();
    await db?.drop();
    await deleteNamespace(namespace);
  });

  it('converges after being killed with SIGKILL in the middle of reconciling, with no duplicates', async () => {
    const operator = await start('crashing');
    const names = Array.from({ length: TENANTS }, (_, i) => `t${i}`);
    await Promise.all(names.map((name) => tenants.create(name, { apiKeys: [{ name: 'a' }, { name: 'b' }] })));
    await eventually(async () => {
      const secrets = await core.listNamespacedSecret({ namespace });
      return secrets.items.length > 0 || undefined;
    }, 'the first key Secret');
    await kill(operator);
    assert.ok((await tenants.readyCount()) < TENANTS, 'the operator died with work left');

    await start('crashing');
    await eventually(async () => (await tenants.readyCount()) === TENANTS || undefined, 'every tenant Ready');

    const ids = names.map((n) => `${namespace}-${n}`);
    const { rows } = await db.pool.query<{ tenant_id: string; name: string; id: string }>(
      'SELECT tenant_id, name, id FROM api_keys WHERE tenant_id = ANY($1)',
      [ids],
    );
    assert.equal(rows.length, TENANTS * 2, 'exactly one key was ever minted per declared key');
    for (const name of names) {
      for (const keyName of ['a', 'b']) {
        const raw = await secretKey(`${name}-${keyName}-key`);
        const found = await findKey(db.pool, raw);
        assert.equal(found?.tenantId, `${namespace}-${name}`, `${name}/${keyName} works`);
      }
    }
    const buckets =
      (await createS3Client(loadConfig(s3Env()).s3).send(new ListBucketsCommand({}))).Buckets ?? [];
    const ours = buckets.filter((b) => b.Name?.startsWith(`stowage-${namespace}-`));
    assert.equal(ours.length, TENANTS);
  });

  it('has one leader of two operators, and the standby takes over when the leader dies', async () => {
    for (const operator of running.splice(0)) await operator.stop();
    const pair = [await start('left'), await start('right')];
    const leaderOf = async () => {
      const flags = await Promise.all(
        pair.map(async (o) => metricValue(await o.metrics(), 'stowage_operator_is_leader')),
      );
      return flags.filter((f) => f === 1).length === 1 ? pair[flags.indexOf(1)] : undefined;
    };
    const leader = await eventually(leaderOf, 'one leader');
    const standby = pair.find((o) => o !== leader)!;

    await tenants.create('led', { apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('led');
    const standbyMetrics = await standby.metrics();
    assert.equal(metricValue(standbyMetrics, 'stowage_operator_is_leader'), 0);
    assert.equal(
      metricValue(standbyMetrics, 'stowage_operator_reconcile_total{result="success"}'),
      undefined,
    );

    await kill(leader!);
    await tenants.create('failed-over', { apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('failed-over');
    assert.equal(metricValue(await standby.metrics(), 'stowage_operator_is_leader'), 1);
  });
});
