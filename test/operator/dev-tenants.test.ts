import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FilesystemObjectStore, findKey, listActiveKeys } from '@stowage/core';
import { provisionDevTenants, readTenantFolder } from '../../services/cli/src/dev-tenants.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';

const tenantYaml = (name: string, tenantId: string, keys: string) => `apiVersion: stowage.dev/v1alpha1
kind: StorageTenant
metadata:
  name: ${name}
spec:
  tenantId: ${tenantId}
  apiKeys: ${keys}
`;

// Dev mode provisions through the operator's provisionTenant: the same tenant-row, bucket and key steps,
// with a file in place of Secrets.
describe('dev mode tenant folder (PGlite, filesystem store)', () => {
  let db: TestDatabase;
  let dir: string;
  let store: FilesystemObjectStore;
  const options = () => ({ dataDir: dir, bucketPrefix: 'stowage-' });
  const provision = async () =>
    provisionDevTenants(
      { pool: db.pool, store, keyGraceMs: 0 },
      await readTenantFolder(join(dir, 'tenants')),
      options(),
    );
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
    const file = JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(file), ['alpha/web']);
  });

  it('refuses a file claiming a tenant id another file declares, naming both', async () => {
    await declare('b.yaml', tenantYaml('b', 'alpha', '[{name: web}]'));
    await assert.rejects(
      provision(),
      /b\.yaml: DatabaseSynced: tenant id alpha is already claimed by dev:a\.yaml/,
    );
    await rm(join(dir, 'tenants', 'b.yaml'));
  });
});
