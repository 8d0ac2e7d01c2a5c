import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';
import { OperatorHarness, TenantApi, type OperatorProcess } from '../support/operator.ts';
import { eventually } from '../support/poll.ts';

const TENANTS = 200;

// The time this takes is a benchmark (make bench-operator), not something this test asserts.
describe(`${TENANTS} StorageTenants applied at once`, () => {
  const namespace = uniqueName('scale');
  const tenants = new TenantApi(namespace);
  let db: TestDatabase;
  let operator: OperatorProcess;

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
    db = await databaseBackends[0].create();
    operator = await new OperatorHarness({
      namespace,
      databaseUrl: db.url,
      publicUrl: 'https://files.example.com',
    }).start();
  });
  after(async () => {
    await operator?.stop();
    await db?.drop();
    await deleteNamespace(namespace);
  });

  it('all become Ready, each with its tenant row and key Secret', async () => {
    const names = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);
    await Promise.all(names.map((name) => tenants.create(name, { apiKeys: [{ name: 'app' }] })));
    await eventually(
      async () => (await tenants.readyCount()) === TENANTS || undefined,
      'every tenant Ready',
      180_000,
    );

    const { rows } = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM tenants WHERE id LIKE $1',
      [`${namespace}-%`],
    );
    assert.equal(Number(rows[0]!.n), TENANTS);
    const secrets = await testKubeConfig().makeApiClient(CoreV1Api).listNamespacedSecret({ namespace });
    assert.equal(secrets.items.length, TENANTS);
  });
});
