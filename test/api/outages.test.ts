import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { S3ObjectStore, createS3Client, generateApiKey, loadConfig, migrate } from '@stowage/core';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { call, upload } from '../support/http.ts';
import { startOwnServers, type OwnServers } from '../support/own-servers.ts';
import { provisionTenant } from '../support/tenant.ts';

describe('an API whose PostgreSQL or object store is down', () => {
  let own: OwnServers<'postgres' | 'minio'>;
  let api: CliServer;
  let key: string;

  before(async () => {
    own = await startOwnServers(['postgres', 'minio']);
    const { settings } = own;
    const pool = new pg.Pool({ connectionString: settings.DATABASE_URL });
    await migrate(pool);
    const s3 = createS3Client(loadConfig(settings).s3);
    const store = S3ObjectStore.fromConfig(loadConfig(settings).s3, s3);
    key = await provisionTenant(pool, store, {
      id: 'outage',
      owner: 'test',
      storageBucket: 'stowage-outage',
    });
    await pool.end();
    s3.destroy();
    api = await startCliServer('api', settings);
  });
  after(async () => {
    await api?.stop();
    await own?.close();
  });

  /** The documented answer to a request that may be sent again once the dependency is back. */
  function unavailable(res: { status: number; headers: Headers; body: any }) {
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.code, 'SERVICE_UNAVAILABLE');
    assert.ok(res.headers.get('retry-after'));
  }

  it('answers 503 SERVICE_UNAVAILABLE while PostgreSQL is down, and serves again once it is back', async () => {
    assert.equal((await call(api.url, '/usage', { key })).status, 200);
    await own.servers.postgres.kill();
    // A key no process has cached yet: it cannot be checked, which is no reason to refuse it.
    unavailable(await call(api.url, '/files/docs', { key: generateApiKey('live').raw }));
    unavailable(await upload(api.url, 'docs', 'hello', { key }));
    await own.servers.postgres.restart();
    assert.equal((await upload(api.url, 'docs', 'hello', { key })).status, 201);
    assert.equal(api.child.exitCode, null, 'the process rode it out');
  });

  it('answers 503 SERVICE_UNAVAILABLE to an upload while the store is down, and stores it once it is back', async () => {
    await own.servers.minio.kill();
    unavailable(await upload(api.url, 'docs', 'hello', { key }));
    await own.servers.minio.restart();
    assert.equal((await upload(api.url, 'docs', 'hello', { key })).status, 201);
    assert.equal((await call(api.url, '/usage', { key })).body.data.fileCount, 2);
  });
});
