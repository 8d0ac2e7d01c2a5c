import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  FilesystemObjectStore,
  createOperatorMetrics,
  latestCheck,
  migrate,
  startEmbeddedPostgres,
  type ObjectStore,
} from '@stowage/core';
import { realBackend, type ApiStack } from '../support/api-stack.ts';
import { runCliToEnd } from '../support/cli.ts';
import { upload } from '../support/http.ts';
import { provisionTenant } from '../support/tenant.ts';

const corruptUsage = (pool: pg.Pool, tenantId: string) =>
  pool.query(`UPDATE tenant_usage SET used_bytes = used_bytes + 42 WHERE tenant_id = $1 AND mode = 'live'`, [
    tenantId,
  ]);
const putOrphan = async (store: ObjectStore, bucket: string) => {
  const key = `docs/${randomUUID()}.txt`;
  await store.put({ bucket, key, body: Readable.from([Buffer.from('orphan')]), contentType: 'text/plain' });
  return key;
};

describe('stowage check as a process, on PostgreSQL + MinIO', () => {
  let stack: ApiStack;
  let tenantId: string;
  let bucket: string;
  const check = (...args: string[]) => runCliToEnd(['check', ...args], { DATABASE_URL: stack.db.url });

  before(async () => {
    stack = await realBackend.create();
    const tenant = await stack.createTenant();
    [tenantId, bucket] = [tenant.id, tenant.storageBucket];
    assert.equal(
      (await upload(stack.url, 'docs', 'hello', { key: tenant.key, filename: 'a.txt' })).status,
      201,
    );
  });
  after(() => stack.close());

  it('exits 0 on a clean installation, with one JSON document', async () => {
    const { code, output, stdout } = await check('--json');
    assert.equal(code, 0, output);
    const report = JSON.parse(stdout);
    assert.deepEqual(
      report.tenants.map((t: { tenantId: string; findings: unknown[] }) => [t.tenantId, t.findings]),
      [[tenantId, []]],
    );
    assert.equal(report.found, 0);
    assert.equal(report.settings.orphanGraceMs, 25 * 3600_000);
  });

  it('exits 1 with findings, says what --repair would do, repairs, and then exits 0', async () => {
    await corruptUsage(stack.db.pool, tenantId);
    const orphan = await putOrphan(stack.store, bucket);

    const text = await check('--orphan-grace', '0');
    assert.equal(text.code, 1, text.output);
    assert.match(text.output, new RegExp(`tenant ${tenantId} \\(bucket ${bucket}\\): 2 findings`));
    assert.match(
      text.output,
      /usage-mismatch +live: recorded 47 bytes used, 0 reserved, 1 files; the rows add up to 5 bytes/,
    );
    assert.match(text.output, new RegExp(`orphan-object +${orphan} \\(6 bytes.*-> delete it`));
    assert.match(text.output, /Run with --repair/);

    const repaired = await check('--repair', '--json', '--tenant', tenantId, '--orphan-grace', '0');
    assert.equal(repaired.code, 1, 'findings were present, even if all are repaired');
    const report = JSON.parse(repaired.stdout);
    assert.deepEqual(report.tenants[0].counts, {
      'usage-mismatch': { found: 1, repaired: 1 },
      'orphan-object': { found: 1, repaired: 1 },
    });
    assert.deepEqual(
      report.tenants[0].findings.map((f: { action: string }) => f.action),
      ['set to {"usedBytes":5,"reservedBytes":0,"fileCount":1}', 'deleted'],
    );
    const after = await check('--orphan-grace', '0');
    assert.equal(after.code, 0, after.output);
    assert.match(after.output, new RegExp(`tenant ${tenantId} .*: clean`));
  });

  it('records a run for the metrics with --record', async () => {
    await corruptUsage(stack.db.pool, tenantId);
    assert.equal((await check('--record')).code, 1);
    const { rows } = await stack.db.pool.query('SELECT repaired, findings FROM consistency_checks');
    assert.deepEqual(rows, [{ repaired: false, findings: { [tenantId]: { 'usage-mismatch': 1 } } }]);
    // What the operator exports from it, as `stowage operator` wires it.
    const metrics = await createOperatorMetrics(() => latestCheck(stack.db.pool)).registry.metrics();
    assert.match(
      metrics,
      new RegExp(`^stowage_check_findings\\{tenant="${tenantId}",kind="usage-mismatch"\\} 1$`, 'm'),
    );
    assert.match(metrics, /^stowage_check_last_run_timestamp_seconds \d+/m);
    const none = await createOperatorMetrics().registry.metrics();
    assert.doesNotMatch(none, /^stowage_check_findings\{/m, 'no recorded run: no series');
  });

  it('exits 2 on a bad configuration (bad arguments: check-command.test.ts)', async () => {
    const { code, output } = await runCliToEnd(['check'], { DATABASE_URL: 'mysql://nope' });
    assert.equal(code, 2);
    assert.match(output, /DATABASE_URL/);
  });
});

describe('stowage check as a process, on the embedded database and filesystem store', () => {
  let dir: string;
  // The test environment's servers are not this installation's: unset them.
  const embedded = { DATABASE_URL: '', S3_ENDPOINT: '', S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '' };
  const check = (...args: string[]) =>
    runCliToEnd(['check', ...args], { ...embedded, STOWAGE_DATA_DIR: dir });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-check-'));
    // What `stowage dev` leaves in its data directory: the database and the objects, here damaged.
    const db = await startEmbeddedPostgres(join(dir, 'db'));
    try {
      await migrate(db.pool);
      const store = new FilesystemObjectStore(join(dir, 'objects'));
      const id = `t-${randomUUID().slice(0, 8)}`;
      await provisionTenant(db.pool, store, { id, owner: 'dev:test', storageBucket: `stowage-${id}` });
      await corruptUsage(db.pool, id);
      await putOrphan(store, `stowage-${id}`);
    } finally {
      await db.stop();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds, repairs, and then finds nothing', async () => {
    const found = await check('--json', '--orphan-grace', '0');
    assert.equal(found.code, 1, found.output);
    const kinds = JSON.parse(found.stdout).tenants[0].findings.map((f: { kind: string }) => f.kind);
    assert.deepEqual(kinds, ['usage-mismatch', 'orphan-object']);
    assert.equal((await check('--repair', '--orphan-grace', '0')).code, 1);
    const clean = await check('--orphan-grace', '0');
    assert.equal(clean.code, 0, clean.output);
  });

  it('exits 2 while another process has the database open', async () => {
    const dev = await startEmbeddedPostgres(join(dir, 'db'));
    try {
      const { code, output } = await check('--repair');
      assert.equal(code, 2, output);
      assert.match(output, /the embedded database in .* is open in another process .*stop it first/);
    } finally {
      await dev.stop();
    }
    assert.equal((await check()).code, 0, 'the lock went with the process that held it');
  });
});
