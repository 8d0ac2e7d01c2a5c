import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CHANGE_FEED_APPLICATION,
  S3ObjectStore,
  applyTenant,
  createS3Client,
  loadConfig,
  mintKey,
  revokeKey,
  storageTenantSpec,
} from '@stowage/core';
import { startCliServer, runCliToEnd, type CliServer } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

describe('stowage api processes on PostgreSQL and MinIO', () => {
  let db: TestDatabase;
  let apis: CliServer[];
  let tenantId: string;

  before(async () => {
    db = await databaseBackends[0].create();
    tenantId = uniqueName('proc');
    await applyTenant(db.pool, {
      id: tenantId,
      owner: 'test',
      storageBucket: `stowage-${tenantId}`,
      spec: storageTenantSpec.parse({}),
    });
    // Its store bucket too, as the operator would make it, so that uploads land.
    const { s3: settings } = loadConfig(process.env);
    const s3 = createS3Client(settings);
    await S3ObjectStore.fromConfig(settings, s3).ensureBucket(`stowage-${tenantId}`);
    s3.destroy();
    apis = await Promise.all(
      [1, 2].map(() => startCliServer('api', { DATABASE_URL: db.url, LOG_LEVEL: 'info' })),
    );
  });
  after(async () => {
    await Promise.all(apis.map((api) => api.stop()));
    await db.drop();
  });

  it('stops accepting a revoked key on every process within 2 s', async () => {
    const key = await mintKey(db.pool, { tenantId, name: 'doomed', scopes: ['read'], mode: 'live' });
    // Warm both processes' caches with the key, so a stale cache would still accept it.
    for (const api of apis) assert.equal((await call(api.url, '/usage', { key: key.raw })).status, 200);
    await revokeKey(db.pool, key.id);
    await sleep(2000); // the documented bound
    for (const api of apis) assert.equal((await call(api.url, '/usage', { key: key.raw })).status, 401);
  });

  it('refuses a key revoked with DELETE /keys/:id on the other process within 2 s', async () => {
    const admin = await mintKey(db.pool, { tenantId, name: 'admin', scopes: ['admin'], mode: 'live' });
    const [first, second] = apis as [CliServer, CliServer];
    const minted = await call(first.url, '/keys', {
      method: 'POST',
      key: admin.raw,
      json: { name: 'short-lived', scopes: ['read'], mode: 'live' },
    });
    assert.equal(minted.status, 201);
    const { apiKey, key } = minted.body;
    // Warm both processes' caches with the key, so a stale cache would still accept it.
    for (const api of apis) assert.equal((await call(api.url, '/usage', { key: apiKey })).status, 200);
    const revoked = await call(first.url, `/keys/${key.id}`, { method: 'DELETE', key: admin.raw });
    assert.equal(revoked.status, 200);
    // The documented bound, plus the poll's own cadence (a probe every 200 ms).
    await eventually(
      async () => ((await call(second.url, '/usage', { key: apiKey })).status === 401 ? true : undefined),
      'the other process to refuse the revoked key',
      2500,
    );
    assert.equal((await call(first.url, '/usage', { key: apiKey })).status, 401);
  });

  /** Uploads a public file through the first process and has both serve it (and keep its row). */
  async function servedByBoth(key: string): Promise<{ path: string; fileKey: string }> {
    const stored = await upload(apis[0]!.url, 'shared', 'hello', { key, filename: 'h.txt' });
    assert.equal(stored.status, 201);
    const path = `/${tenantId}/shared/${stored.body.file.key}`;
    for (const api of apis) assert.equal((await fetch(`${api.url}${path}`)).status, 200);
    return { path, fileKey: stored.body.file.key };
  }

  /** The 2 s bound, with a probe every 200 ms: a correctness bound, not a measure of speed. */
  const refusedWithin2s = (api: CliServer, path: string, what: string) =>
    eventually(
      async () => ((await fetch(`${api.url}${path}`)).status === 404 ? true : undefined),
      what,
      2000,
    );

  it('stops serving a file deleted through one process on the other within 2 s', async () => {
    const key = await mintKey(db.pool, {
      tenantId,
      name: 'deleter',
      scopes: ['read', 'write'],
      mode: 'live',
    });
    const [first, second] = apis as [CliServer, CliServer];
    const { path, fileKey } = await servedByBoth(key.raw);
    const deleted = await call(first.url, '/files/delete', {
      method: 'POST',
      key: key.raw,
      json: { bucket: 'shared', key: fileKey },
    });
    assert.equal(deleted.status, 200);
    assert.equal((await fetch(`${first.url}${path}`)).status, 404, 'at once where it was deleted');
    await refusedWithin2s(second, path, 'the other process to stop serving the deleted file');
  });

  it('stops serving a file made private through one process on the other within 2 s', async () => {
    const key = await mintKey(db.pool, { tenantId, name: 'hider', scopes: ['read', 'write'], mode: 'live' });
    const [first, second] = apis as [CliServer, CliServer];
    const { path, fileKey } = await servedByBoth(key.raw);
    const hidden = await call(first.url, `/files/shared/${fileKey}`, {
      method: 'PATCH',
      key: key.raw,
      json: { allowPublicAccess: false },
    });
    assert.equal(hidden.status, 200);
    assert.equal((await fetch(`${first.url}${path}`)).status, 404, 'at once where it was changed');
    await refusedWithin2s(second, path, 'the other process to stop serving the file made private');
    const withKey = await fetch(`${second.url}${path}`, { headers: { 'x-api-key': key.raw } });
    assert.equal(withKey.status, 200, 'still there for a key of its tenant');
  });

  it('still stops serving a deleted file within 2 s after its change channel is cut', async () => {
    const key = await mintKey(db.pool, { tenantId, name: 'cutter', scopes: ['read', 'write'], mode: 'live' });
    const [first, second] = apis as [CliServer, CliServer];
    const { path, fileKey } = await servedByBoth(key.raw);
    const cut = await db.pool.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
      [CHANGE_FEED_APPLICATION],
    );
    assert.equal(cut.rowCount, 2, "each process's listening connection");
    const deleted = await call(first.url, '/files/delete', {
      method: 'POST',
      key: key.raw,
      json: { bucket: 'shared', key: fileKey },
    });
    assert.equal(deleted.status, 200);
    await refusedWithin2s(second, path, 'the other process to stop serving the deleted file');
    await eventually(
      async () => (/change notifications lost/.test(second.output()) ? true : undefined),
      'the other process to report the cut',
    );
  });

  it('logs requests as JSON with request ids and never a key', async () => {
    const key = await mintKey(db.pool, { tenantId, name: 'logged', scopes: ['read', 'write'], mode: 'live' });
    const api = apis[0]!;
    await call(api.url, '/usage', { key: key.raw });
    await call(api.url, '/usage', { headers: { authorization: `Bearer ${key.raw}` } });
    await upload(api.url, 'logs', 'hello', { key: key.raw });
    await call(api.url, `/files/logs?cursor=${key.raw}`, { key: key.raw });
    await sleep(200);
    const lines = api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const requests = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    assert.ok(requests.length >= 4);
    for (const entry of requests) assert.match(String(entry.requestId), /\S/);
    assert.ok(!api.output().includes(key.raw), 'the raw key appears nowhere in the logs');
    assert.ok(!api.output().includes(key.raw.slice(13)), 'nor does its secret part');
  });

  it('serves health, readiness and metrics on a separate port', async () => {
    const api = apis[1]!;
    assert.deepEqual((await call(api.url, '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await call(api.url, '/readyz')).body, { status: 'ok', failing: [], degraded: [] });
    assert.equal((await call(api.url, '/metrics')).status, 404, 'not on the API port');
    const metrics = await api.metrics();
    assert.match(metrics, /^stowage_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+/m);
    assert.match(metrics, /^stowage_http_request_duration_seconds_bucket\{/m);
  });
});

describe('stowage migrate', () => {
  it('applies the migrations once', async () => {
    const db = await databaseBackends[0].create(); // already migrated by the test helper
    const fresh = new URL(db.url);
    fresh.pathname = `/${uniqueName('m').replace('-', '_')}`;
    await db.pool.query(`CREATE DATABASE ${fresh.pathname.slice(1)}`);
    try {
      const first = await runCliToEnd(['migrate'], { DATABASE_URL: fresh.href });
      assert.equal(first.code, 0, first.output);
      assert.match(first.output, /applied 001_initial\.sql/);
      const second = await runCliToEnd(['migrate'], { DATABASE_URL: fresh.href });
      assert.match(second.output, /database is up to date/);
      const bad = await runCliToEnd(['migrate'], { DATABASE_URL: 'mysql://nope' });
      assert.equal(bad.code, 1);
      assert.match(bad.output, /DATABASE_URL/);
    } finally {
      await db.pool.query(`DROP DATABASE ${fresh.pathname.slice(1)} WITH (FORCE)`);
      await db.drop();
    }
  });
});

describe('stowage dev (embedded defaults)', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stowage-dev-test-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  // Only the data directory and ports are set: no database, Redis or S3 settings.
  const env = () => ({
    STOWAGE_DATA_DIR: dataDir,
    DATABASE_URL: '',
    S3_ENDPOINT: '',
    S3_ACCESS_KEY_ID: '',
    S3_SECRET_ACCESS_KEY: '',
    REDIS_URL: '',
  });
  const printedKey = (output: string, name = 'dev') =>
    new RegExp(`tenant dev, key "${name}":\\s+(stw_(live|test)_\\w+)`).exec(output)?.[1];

  it('prints a working live key and a test key, keeps keys and files across a restart, runs once per directory', async () => {
    const first = await startCliServer('dev', env());
    let fileUrl: string;
    let key: string;
    try {
      key = printedKey(first.output())!;
      assert.match(key, /^stw_live_/, first.output());
      const testKey = printedKey(first.output(), 'dev-test')!;
      assert.match(testKey, /^stw_test_/);
      assert.match(first.output(), /deleted 86400 s after upload \(TEST_FILE_TTL\)/);
      assert.equal((await call(first.url, '/usage', { key: testKey })).body.data.mode, 'test');
      assert.match(first.output(), new RegExp(`Stowage is running at http://localhost:\\d+`));
      const res = await upload(first.url, 'photos', PNG_1X1, { key, filename: 'photo.png' });
      assert.equal(res.status, 201);
      fileUrl = new URL(new URL(res.body.url).pathname, first.url).href;
    } finally {
      await first.stop();
    }
    const second = await startCliServer('dev', env());
    try {
      assert.equal(printedKey(second.output()), key, 'the same key after a restart');
      const another = await runCliToEnd(['dev'], { ...env(), PORT: '0', METRICS_PORT: '0' });
      assert.equal(another.code, 1, another.output);
      assert.match(another.output, /the embedded database in .* is open in another process/);
      const listed = await call(second.url, '/files/photos', { key });
      assert.equal(listed.body.files.length, 1);
      const served = await fetch(new URL(new URL(fileUrl).pathname, second.url));
      assert.equal(served.status, 200);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG_1X1);
    } finally {
      await second.stop();
    }
  });

  it('revokes the keys of a tenant whose file was removed, on the next start', async () => {
    const tenantsDir = join(dataDir, 'tenants');
    await mkdir(tenantsDir);
    const declare = (name: string) =>
      writeFile(
        join(tenantsDir, `${name}.yaml`),
        `apiVersion: stowage.dev/v1alpha1\nkind: StorageTenant\nmetadata: {name: ${name}}\n` +
          `spec: {tenantId: ${name}, apiKeys: [{name: app}]}\n`,
      );
    await Promise.all([declare('stays'), declare('leaves')]);
    const keyOf = (output: string, tenant: string) =>
      new RegExp(`tenant ${tenant}, key "app":\\s+(stw_live_\\w+)`).exec(output)?.[1];
    const withTenants = { ...env(), STOWAGE_TENANTS_DIR: tenantsDir };

    const first = await startCliServer('dev', withTenants);
    const [stays, leaves] = [keyOf(first.output(), 'stays'), keyOf(first.output(), 'leaves')];
    await first.stop();
    assert.ok(stays && leaves, first.output());

    await rm(join(tenantsDir, 'leaves.yaml'));
    const second = await startCliServer('dev', withTenants);
    try {
      assert.match(
        second.output(),
        /tenant leaves \(leaves\.yaml was removed\): keys revoked, its files kept/,
      );
      assert.equal((await call(second.url, '/usage', { key: leaves })).status, 401);
      assert.equal((await call(second.url, '/usage', { key: stays })).status, 200);
    } finally {
      await second.stop();
    }
  });

  it('delivers webhooks to a receiver on this machine, signed with the secret it prints', async () => {
    const receiver = await startWebhookReceiver();
    const tenantsDir = join(dataDir, 'hooked');
    await mkdir(tenantsDir);
    await writeFile(
      join(tenantsDir, 'hooked.yaml'),
      `apiVersion: stowage.dev/v1alpha1\nkind: StorageTenant\nmetadata: {name: hooked}\n` +
        `spec: {tenantId: hooked, apiKeys: [{name: app}], webhooks: [{name: local, url: "${receiver.url}"}]}\n`,
    );
    // Unset, as on a developer's machine: dev mode lets webhooks reach private addresses by default.
    const dev = await startCliServer('dev', {
      ...env(),
      STOWAGE_TENANTS_DIR: tenantsDir,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '',
    });
    try {
      const key = /tenant hooked, key "app":\s+(stw_live_\w+)/.exec(dev.output())?.[1];
      const secret = /tenant hooked, webhooks local: signed with (whsec_\S+)/.exec(dev.output())?.[1];
      assert.ok(key && secret, dev.output());
      const uploaded = await upload(dev.url, 'docs', 'hello', { key, filename: 'a.txt' });
      const delivered = await eventually(
        async () => receiver.received.find((m) => m.type === 'file.uploaded'),
        'the file.uploaded webhook',
      );
      assert.equal(delivered.payload.data.key, uploaded.body.file.key);
      assert.ok(receiver.verifies(delivered, secret), 'signed with the printed secret');
    } finally {
      await dev.stop();
      await receiver.close();
    }
  });
});
