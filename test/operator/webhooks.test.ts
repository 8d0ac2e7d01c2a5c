import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { requireEnv, uniqueName } from '../support/env.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';
import { OperatorHarness, TenantApi, s3Env, type OperatorProcess } from '../support/operator.ts';
import { eventually } from '../support/poll.ts';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../support/webhook-receiver.ts';

describe('webhooks of an applied StorageTenant (kube-apiserver, PostgreSQL, Redis, MinIO)', () => {
  const namespace = uniqueName('wh');
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  const tenants = new TenantApi(namespace);
  let db: TestDatabase;
  let api: CliServer;
  let worker: CliServer;
  let operator: OperatorProcess;
  let hooks: WebhookReceiver;

  const secretData = async (name: string) => {
    const data = (await core.readNamespacedSecret({ name, namespace })).data ?? {};
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  };
  /** The messages about `key` of type `type`, once they came. */
  const arrived = (type: string, key: string) =>
    eventually(async () => {
      const found = hooks.received.filter((m) => m.type === type && m.payload.data.key === key);
      return found.length ? found : undefined;
    }, `${type} of ${key}`);

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
    db = await databaseBackends[0].create();
    hooks = await startWebhookReceiver();
    const env = {
      DATABASE_URL: db.url,
      ...s3Env(),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_POLL_MS: '100',
    };
    api = await startCliServer('api', env);
    worker = await startCliServer('worker', {
      ...env,
      REDIS_URL: requireEnv('REDIS_URL'),
      QUEUE_PREFIX: uniqueName('q'),
    });
    operator = await new OperatorHarness({ namespace, databaseUrl: db.url, publicUrl: api.url }).start();
  });
  after(async () => {
    await operator?.stop();
    await worker?.stop();
    await api?.stop();
    await hooks?.close();
    await db?.drop();
    await deleteNamespace(namespace);
  });

  it('signs deliveries with the secret of <resource>-webhooks, and with a new one once it is deleted', async () => {
    await tenants.create('shop', {
      quota: { storage: '10Ki' },
      apiKeys: [{ name: 'backend', scopes: ['read', 'write', 'admin'] }],
      webhooks: [{ name: 'app', url: hooks.url }],
    });
    await tenants.waitFor('shop');
    const key = (await secretData('shop-backend-key')).apiKey!;
    const first = (await secretData('shop-webhooks')).webhookSecret!;
    assert.match(first, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const signedBy = (messages: ReceivedWebhook[], secret: string) =>
      messages.every((m) => hooks.verifies(m, secret));

    const image = await upload(api.url, 'pics', PNG_1X1, { key, filename: 'dot.png' });
    assert.equal(image.status, 201);
    const big = await upload(api.url, 'docs', 'x'.repeat(8500), { key });
    for (const [type, fileKey] of [
      ['file.uploaded', image.body.file.key],
      ['variants.ready', image.body.file.key],
      ['file.uploaded', big.body.file.key],
    ] as const) {
      assert.ok(signedBy(await arrived(type, fileKey), first), `${type} signed with the Secret's secret`);
    }
    const threshold = await eventually(
      async () => hooks.received.find((m) => m.type === 'quota.threshold'),
      'quota.threshold',
    );
    assert.equal(threshold.payload.data.threshold, 80);

    // A reconcile keeps the secret; deleting the Secret makes a new one, which signs from then on.
    await tenants.updateSpec('shop', (spec) => (spec.displayName = 'Shop'));
    await tenants.waitFor('shop');
    assert.equal((await secretData('shop-webhooks')).webhookSecret, first);
    await core.deleteNamespacedSecret({ name: 'shop-webhooks', namespace });
    const second = await eventually(async () => {
      const data = await secretData('shop-webhooks').catch(() => undefined);
      return data?.webhookSecret;
    }, 'a new Secret');
    assert.notEqual(second, first);
    await eventually(async () => {
      const { rows } = await db.pool.query('SELECT webhook_secret FROM tenants WHERE id = $1', [
        `${namespace}-shop`,
      ]);
      return rows[0]?.webhook_secret === second ? true : undefined;
    }, 'the new secret to reach the tenant row');
    await call(api.url, '/files/delete', {
      method: 'POST',
      key,
      json: { bucket: 'docs', key: big.body.file.key },
    });
    const deleted = await arrived('file.deleted', big.body.file.key);
    assert.ok(signedBy(deleted, second) && !signedBy(deleted, first), 'signed with the new secret only');
  });
});
