import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetBucketTaggingCommand, HeadBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createS3Client, loadConfig } from '@stowage/core';
import { startCliServer, type CliProcess } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';
import { call, upload } from '../support/http.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';
import { OperatorHarness, TenantApi, metricValue, s3Env, type OperatorProcess } from '../support/operator.ts';
import { eventually } from '../support/poll.ts';

const GRACE_SECONDS = 8;

describe('stowage operator (kube-apiserver, PostgreSQL, MinIO, a running API)', () => {
  const namespace = uniqueName('op');
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const s3 = createS3Client(loadConfig(s3Env()).s3);
  const tenants = new TenantApi(namespace);
  let db: TestDatabase;
  let api: CliProcess & { url: string };
  let operator: OperatorProcess;
  let harness: OperatorHarness;

  const secret = async (name: string) => {
    const data = (await core.readNamespacedSecret({ name, namespace })).data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  const secretGone = async (name: string) =>
    core.readNamespacedSecret({ name, namespace }).then(
      () => undefined,
      (err: { code?: number }) => (err.code === 404 ? true : undefined),
    );
  const usage = (key: string) => call(api.url, '/usage', { key });
  const rows = async (sql: string, params: unknown[]) => (await db.pool.query(sql, params)).rows;
  const objectsIn = async (bucket: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key);
  const bucketExists = (bucket: string) =>
    s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
      () => true,
      () => false,
    );
  const events = async (name: string) =>
    (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items;

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
    db = await databaseBackends[0].create();
    api = await startCliServer('api', { DATABASE_URL: db.url, ...s3Env() });
    harness = new OperatorHarness({
      namespace,
      databaseUrl: db.url,
      publicUrl: api.url,
      env: { KEY_ROTATION_GRACE_SECONDS: String(GRACE_SECONDS) },
    });
    operator = await harness.start();
  });
  after(async () => {
    await operator?.stop();
    await api?.stop();
    await db?.drop();
    await deleteNamespace(namespace);
  });

  it('makes an applied tenant Ready, with a key in its Secret that uploads through the API', async () => {
    await tenants.create('acme', {
      displayName: 'Acme Inc.',
      quota: { storage: '1Mi' },
      buckets: [{ name: 'avatars', public: false }],
      apiKeys: [{ name: 'backend' }],
    });
    const ready = await tenants.waitFor('acme');
    const tenantId = `${namespace}-acme`;
    assert.equal(ready.status?.tenantId, tenantId);
    assert.equal(ready.status?.bucketName, `stowage-${tenantId}`);
    assert.equal(ready.status?.endpoint, api.url);
    for (const type of ['DatabaseSynced', 'BucketReady', 'KeysReady'])
      assert.equal(ready.status?.conditions?.find((c) => c.type === type)?.status, 'True', type);

    const [key] = ready.status?.apiKeys ?? [];
    assert.equal(key?.secretName, 'acme-backend-key');
    const delivered = await secret('acme-backend-key');
    assert.deepEqual(Object.keys(delivered).sort(), ['apiKey', 'endpoint', 'tenantId']);
    assert.equal(delivered.tenantId, tenantId);
    assert.equal(delivered.endpoint, api.url);
    assert.ok(delivered.apiKey!.startsWith(key!.prefix));

    const uploaded = await upload(api.url, 'avatars', 'hello', { key: delivered.apiKey! });
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    assert.equal(uploaded.body.file.allowPublicAccess, false, 'the declared bucket default applies');
    const tags = await s3.send(new GetBucketTaggingCommand({ Bucket: `stowage-${tenantId}` }));
    assert.ok(tags.TagSet?.some((t) => t.Key === 'stowage.dev/tenant' && t.Value === tenantId));

    const reasons = (await events('acme')).map((e) => e.reason);
    for (const reason of ['TenantCreated', 'BucketCreated', 'KeyMinted', 'Provisioned'])
      assert.ok(reasons.includes(reason), `event ${reason} in ${reasons.join(', ')}`);
    const secrets = await core.listNamespacedSecret({ namespace });
    const raw = delivered.apiKey!;
    assert.ok(
      (await events('acme')).every((e) => !e.message?.includes(raw)) &&
        secrets.items.filter((s) => JSON.stringify(s).includes(Buffer.from(raw).toString('base64')))
          .length === 1,
      'the raw key is in its Secret and nowhere else',
    );
  });

  it('refreshes usage in status and metrics, and writes status only when something changed', async () => {
    const { apiKey } = await secret('acme-backend-key');
    assert.equal((await upload(api.url, 'docs', 'x'.repeat(1000), { key: apiKey! })).status, 201);
    const refreshed = await eventually(async () => {
      const t = await tenants.get('acme');
      return (t.status?.usage?.fileCount ?? 0) >= 2 ? t : undefined;
    }, 'usage in status');
    assert.equal(refreshed.status?.usage?.usedBytes, 1005);
    assert.deepEqual(
      refreshed.status?.usage?.test,
      { usedBytes: 0, fileCount: 0, percentUsed: 0 },
      'test files are counted apart, against quota.testStorage',
    );
    const tenant = `${namespace}-acme`;
    await eventually(async () => {
      const text = await operator.metrics();
      return metricValue(text, `stowage_tenant_used_bytes{tenant="${tenant}"}`) === 1005 || undefined;
    }, 'the used-bytes gauge');
    const text = await operator.metrics();
    assert.equal(metricValue(text, `stowage_tenant_quota_bytes{tenant="${tenant}"}`), 2 ** 20);
    assert.equal(metricValue(text, `stowage_tenant_file_count{tenant="${tenant}"}`), 2);
    assert.ok((metricValue(text, 'stowage_operator_reconcile_total{result="success"}') ?? 0) > 0);
    assert.equal(metricValue(text, 'stowage_operator_is_leader'), 1);

    // Resyncs run every 2 s; with nothing changed, none of them writes (not even a patch that changes
    // nothing, which the API server would take without a new resourceVersion).
    const start = await operator.metrics();
    const statusWrites = metricValue(start, 'stowage_operator_status_writes_total');
    const reconciles = metricValue(start, 'stowage_operator_reconcile_total{result="success"}')!;
    const before = (await tenants.get('acme')).metadata.resourceVersion;
    assert.ok(statusWrites && statusWrites > 0);
    await eventually(async () => {
      const now = metricValue(
        await operator.metrics(),
        'stowage_operator_reconcile_total{result="success"}',
      )!;
      return now >= reconciles + 3 || undefined;
    }, 'three more reconciles');
    assert.equal((await tenants.get('acme')).metadata.resourceVersion, before);
    assert.equal(metricValue(await operator.metrics(), 'stowage_operator_status_writes_total'), statusWrites);
  });

  it('enforces a quota change in the API within seconds', async () => {
    const { apiKey } = await secret('acme-backend-key');
    assert.equal((await upload(api.url, 'docs', 'y'.repeat(4000), { key: apiKey! })).status, 201);
    await tenants.updateSpec('acme', (spec) => ((spec.quota as Record<string, unknown>).storage = '5000'));
    await tenants.waitFor('acme');
    const refused = await upload(api.url, 'docs', 'z'.repeat(1000), { key: apiKey! });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'QUOTA_EXCEEDED');
    assert.equal((await usage(apiKey!)).body.data.totalQuota, 5000);
  });

  it('revokes a key removed from the spec, and deletes its Secret', async () => {
    await tenants.create('keys', { apiKeys: [{ name: 'one' }, { name: 'two' }] });
    await tenants.waitFor('keys');
    const two = (await secret('keys-two-key')).apiKey!;
    assert.equal((await usage(two)).status, 200);
    await tenants.updateSpec('keys', (spec) => (spec.apiKeys = [{ name: 'one' }]));
    await eventually(() => secretGone('keys-two-key'), 'the Secret of the removed key to go');
    await eventually(
      async () => ((await usage(two)).status === 401 ? true : undefined),
      'the removed key to fail',
    );
    assert.equal((await usage((await secret('keys-one-key')).apiKey!)).status, 200);
    const ready = await tenants.waitFor('keys');
    assert.deepEqual(
      ready.status?.apiKeys?.map((k) => k.name),
      ['one'],
    );
  });

  it('rotates a key: the new one works at once, the old one until the grace period ends', async () => {
    const old = (await secret('keys-one-key')).apiKey!;
    await tenants.updateSpec('keys', (spec) => (spec.apiKeys = [{ name: 'one', rotation: 1 }]));
    const fresh = await eventually(async () => {
      const { apiKey } = await secret('keys-one-key');
      return apiKey !== old ? apiKey : undefined;
    }, 'a new key in the Secret');
    assert.equal((await usage(fresh!)).status, 200);
    assert.equal((await usage(old)).status, 200, `the old key works during the ${GRACE_SECONDS}s grace`);
    await eventually(
      async () => ((await usage(old)).status === 401 ? true : undefined),
      'the old key to expire',
    );
    assert.equal((await usage(fresh!)).status, 200);
    assert.ok((await events('keys')).some((e) => e.reason === 'KeyRotated'));
  });

  it('replaces the key of a deleted Secret and revokes the old one at once', async () => {
    const old = (await secret('keys-one-key')).apiKey!;
    await core.deleteNamespacedSecret({ name: 'keys-one-key', namespace });
    const fresh = await eventually(async () => {
      const delivered = await secret('keys-one-key').catch(() => undefined);
      return delivered?.apiKey && delivered.apiKey !== old ? delivered.apiKey : undefined;
    }, 'a new Secret');
    assert.equal((await usage(fresh)).status, 200);
    await eventually(
      async () => ((await usage(old)).status === 401 ? true : undefined),
      'the old key to fail',
    );
    const tenantId = `${namespace}-keys`;
    const live = await rows(
      "SELECT id FROM api_keys WHERE tenant_id = $1 AND name = 'one' AND (revoked_at IS NULL OR revoked_at > now())",
      [tenantId],
    );
    assert.equal(live.length, 1, 'exactly one live key of that name');
  });

  it('gives a second resource claiming a tenant id Ready=False, reason TenantIdConflict', async () => {
    const tenantId = uniqueName('shared');
    await tenants.create('first', { tenantId, apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('first');
    await tenants.create('second', { tenantId, apiKeys: [{ name: 'k' }] });
    const conflicted = await tenants.waitFor('second', 'Ready', 'False');
    const ready = conflicted.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.reason, 'TenantIdConflict');
    assert.match(ready?.message ?? '', /already claimed by kubernetes:.*\/first/);
    assert.equal(await secretGone('second-k-key'), true, 'no key is minted for the loser');
    assert.ok((await events('second')).some((e) => e.reason === 'TenantIdConflict' && e.type === 'Warning'));

    // Deleting the loser must not touch the winner's tenant.
    await tenants.delete('second');
    await eventually(async () => (await tenants.gone('second')) || undefined, 'the loser to go');
    assert.equal((await tenants.get('first')).status?.conditions?.[0]?.status, 'True');
    assert.equal((await usage((await secret('first-k-key')).apiKey!)).status, 200);
  });

  it('keeps the bucket and its objects when a Retain tenant is deleted, and revokes its keys', async () => {
    await tenants.create('kept', { apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('kept');
    const key = (await secret('kept-k-key')).apiKey!;
    assert.equal((await upload(api.url, 'docs', 'keep me', { key })).status, 201);
    await tenants.delete('kept');
    await eventually(async () => (await tenants.gone('kept')) || undefined, 'the finalizer to run');
    const bucket = `stowage-${namespace}-kept`;
    assert.equal((await objectsIn(bucket)).length, 1);
    assert.equal((await rows('SELECT 1 FROM files WHERE tenant_id = $1', [`${namespace}-kept`])).length, 1);
    await eventually(async () => ((await usage(key)).status === 401 ? true : undefined), 'the key to fail');
    assert.equal(await secretGone('kept-k-key'), true);

    // Applying it again adopts the kept data.
    await tenants.create('kept', { apiKeys: [{ name: 'k' }] });
    const again = await tenants.waitFor('kept');
    assert.equal(again.status?.usage?.fileCount, 1);
  });

  it('removes objects, bucket, rows and keys when a Delete tenant is deleted', async () => {
    await tenants.create('doomed', { deletionPolicy: 'Delete', apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('doomed');
    const key = (await secret('doomed-k-key')).apiKey!;
    for (const name of ['a', 'b']) assert.equal((await upload(api.url, name, name, { key })).status, 201);
    await tenants.delete('doomed');
    await eventually(async () => (await tenants.gone('doomed')) || undefined, 'the finalizer to run');
    const tenantId = `${namespace}-doomed`;
    assert.equal(await bucketExists(`stowage-${tenantId}`), false);
    for (const table of ['tenants', 'api_keys', 'files', 'buckets', 'tenant_usage']) {
      const column = table === 'tenants' ? 'id' : 'tenant_id';
      assert.equal((await rows(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [tenantId])).length, 0, table);
    }
    // At once: even a replica that still has the key cached answers 401, not an error.
    assert.equal((await usage(key)).status, 401);
    assert.equal(await secretGone('doomed-k-key'), true);
    const text = await operator.metrics();
    assert.equal(metricValue(text, `stowage_tenant_used_bytes{tenant="${tenantId}"}`), undefined);
  });

  it('writes status once when a Ready tenant starts failing, not on every retry', async () => {
    await tenants.create('flaky', { apiKeys: [{ name: 'k' }] });
    await tenants.waitFor('flaky');
    const tenantId = `${namespace}-flaky`;
    const metric = async (series: string) => metricValue(await operator.metrics(), series) ?? 0;
    const failed = () => metric('stowage_operator_reconcile_total{result="error"}');
    // From now on its tenant row cannot be written: every reconcile fails at DatabaseSynced and retries.
    await db.pool.query(
      `CREATE FUNCTION refuse_flaky() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'the test refuses this tenant row'; END $$`,
    );
    await db.pool.query(
      `CREATE TRIGGER refuse_flaky BEFORE INSERT ON tenants FOR EACH ROW
       WHEN (NEW.id = '${tenantId}') EXECUTE FUNCTION refuse_flaky()`,
    );
    try {
      const failing = await tenants.waitFor('flaky', 'DatabaseSynced', 'False');
      assert.equal(failing.status?.bucketName, undefined, 'nothing shown of a tenant not in sync');
      assert.equal(failing.status?.usage, undefined);
      // One more failure after the write seen above, so that write is counted before the baseline.
      const seen = await failed();
      await eventually(async () => ((await failed()) > seen ? true : undefined), 'a retry');
      const writes = await metric('stowage_operator_status_writes_total');
      const retries = await failed();
      await eventually(
        async () => ((await failed()) >= retries + 3 ? true : undefined),
        'three more retries',
      );
      assert.equal(await metric('stowage_operator_status_writes_total'), writes, 'no write per retry');
    } finally {
      await db.pool.query('DROP TRIGGER refuse_flaky ON tenants');
      await db.pool.query('DROP FUNCTION refuse_flaky');
    }
    const recovered = await tenants.waitFor('flaky');
    assert.equal(recovered.status?.bucketName, `stowage-${tenantId}`);
  });

  it('runs with only the RBAC of operator/rbac.yaml, which grants nothing else', async () => {
    // Everything above ran as the ServiceAccount bound to exactly those rules; these it may not do.
    const account = harness.kubeConfig();
    const forbidden = (request: Promise<unknown>) =>
      request.then(
        () => assert.fail('the operator account was allowed'),
        (err: { code?: number }) => assert.equal(err.code, 403),
      );
    const asOperator = account.makeApiClient(CoreV1Api);
    await forbidden(asOperator.listNamespacedPod({ namespace }));
    await forbidden(asOperator.listNamespacedConfigMap({ namespace }));
    await forbidden(asOperator.deleteNamespace({ name: namespace }));
    await forbidden(
      account.makeApiClient(CoordinationV1Api).createNamespacedLease({
        namespace: 'default',
        body: { metadata: { name: 'stowage-operator' } },
      }),
    );
  });
});
