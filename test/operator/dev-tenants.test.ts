import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemObjectStore, findKey, getTenant, listActiveKeys } from '@stowage/core';
import { provisionDevTenants, readTenantFolder } from '../../services/cli/src/dev-tenants.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';

const tenantYaml = (
  name: string,
  tenantId: string,
  keys: string,
  more = '',
) => `apiVersion: stowage.dev/v1alpha1
kind: StorageTenant
metadata:
  name: ${name}
spec:
  tenantId: ${tenantId}
  apiKeys: ${keys}
${more}`;

// Dev mode provisions through the operator's provisionTenant: the same tenant-row, bucket and key steps,
// with a file in place of Secrets.
describe('dev mode tenant folder (PGlite, filesystem store)', () => {
  let db: TestDatabase;
  let dir: string;
  let store: FilesystemObjectStore;
  const options = () => ({ dataDir: dir, bucketPrefix: 'stowage-' });
  const sync = async () =>
    provisionDevTenants(
      { pool: db.pool, store, keyGraceMs: 0 },
      await readTenantFolder(join(dir, 'tenants')),
      options(),
    );
  const provision = async () => (await sync()).keys;
  const keyFile = async () =>
    Object.keys(JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as Record<string, unknown>);
  const declare = (file: string, yaml: string) => writeFile(join(dir, 'tenants', file), yaml);

  before(async () => {
    db = await databaseBackends[1].create();
    dir = await mkdtemp(join(tmpdir(), 'dev-tenants-'));
    store = new FilesystemObjectStore(join(dir, 'objects'));
    await mkdir(join(dir, 'tenants'));
  });
  after(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('provisions rows, buckets and working keys, and keeps the keys across runs', async () => {
    await declare('a.yaml', tenantYaml('a', 'alpha', '[{name: web}, {name: jobs, scopes: [read]}]'));
    const keys = await provision();
    assert.deepEqual(
      keys.map((k) => `${k.tenantId}/${k.name}`),
      ['alpha/web', 'alpha/jobs'],
    );
    for (const key of keys) assert.equal((await findKey(db.pool, key.raw))?.tenantId, 'alpha');
    assert.deepEqual((await findKey(db.pool, keys[1]!.raw))?.scopes, ['read']);
    assert.equal(await store.bucketExists('stowage-alpha'), true);
    assert.equal((await stat(join(dir, 'keys.json'))).mode & 0o777, 0o600);

    const again = await provision();
    assert.deepEqual(
      again.map((k) => k.raw),
      keys.map((k) => k.raw),
    );
    assert.equal((await listActiveKeys(db.pool, 'alpha')).length, 2, 'no key minted twice');
  });

  it('rotates a key whose rotation was bumped and revokes one removed from the file', async () => {
    const [web, jobs] = await provision();
    await declare('a.yaml', tenantYaml('a', 'alpha', '[{name: web, rotation: 1}]'));
    const [rotated] = await provision();
    assert.notEqual(rotated!.raw, web!.raw);
    assert.equal((await findKey(db.pool, rotated!.raw))?.tenantId, 'alpha');
    assert.equal(await findKey(db.pool, web!.raw), undefined, 'the old key is gone (no grace here)');
    assert.equal(await findKey(db.pool, jobs!.raw), undefined, 'the removed key is revoked');
    assert.deepEqual(await keyFile(), ['alpha/web']);
  });

  it('refuses a file claiming a tenant id another file declares, naming both', async () => {
    await declare('b.yaml', tenantYaml('b', 'alpha', '[{name: web}]'));
    await assert.rejects(
      provision(),
      /b\.yaml: DatabaseSynced: tenant id alpha is already claimed by dev:a\.yaml/,
    );
    await rm(join(dir, 'tenants', 'b.yaml'));
  });

  it('revokes the keys of a tenant whose file is removed, and keeps its data (deletionPolicy Retain)', async () => {
    await declare('kept.yaml', tenantYaml('kept', 'kept', '[{name: web}]'));
    const [alpha, kept] = await provision();
    await store.put({
      bucket: 'stowage-kept',
      key: 'docs/a.txt',
      body: Readable.from(['data']),
      contentType: 'text/plain',
    });
    await rm(join(dir, 'tenants', 'kept.yaml'));

    const { keys, removed } = await sync();
    assert.deepEqual(
      removed.map((r) => [r.tenantId, r.file, r.deletionPolicy]),
      [['kept', 'kept.yaml', 'Retain']],
    );
    assert.deepEqual(
      keys.map((k) => k.raw),
      [alpha!.raw],
    );
    assert.equal(await findKey(db.pool, kept!.raw), undefined, "the removed tenant's key is revoked");
    assert.deepEqual(await keyFile(), ['alpha/web']);
    assert.equal((await findKey(db.pool, alpha!.raw))?.tenantId, 'alpha', 'other tenants keep theirs');
    assert.equal((await getTenant(db.pool, 'kept'))?.owner, 'dev:kept.yaml', 'its rows are kept');
    assert.equal(await store.bucketExists('stowage-kept'), true, 'and its files');

    assert.deepEqual((await sync()).removed, [], 'nothing left to do on the next start');
  });

  it('deletes the keys, files and rows of a removed tenant with deletionPolicy Delete', async () => {
    await declare(
      'doomed.yaml',
      tenantYaml('doomed', 'doomed', '[{name: web}]', '  deletionPolicy: Delete\n'),
    );
    const doomed = (await provision()).find((k) => k.tenantId === 'doomed')!;
    await store.put({
      bucket: 'stowage-doomed',
      key: 'docs/a.txt',
      body: Readable.from(['data']),
      contentType: 'text/plain',
    });
    await rm(join(dir, 'tenants', 'doomed.yaml'));

    const { removed } = await sync();
    assert.deepEqual(
      removed.map((r) => [r.tenantId, r.deletionPolicy]),
      [['doomed', 'Delete']],
    );
    assert.equal(await findKey(db.pool, doomed.raw), undefined);
    assert.equal(await getTenant(db.pool, 'doomed'), undefined);
    assert.equal(await store.bucketExists('stowage-doomed'), false);
    assert.deepEqual(await keyFile(), ['alpha/web']);
  });
});
