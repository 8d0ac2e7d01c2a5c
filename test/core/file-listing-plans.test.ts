import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { listFiles, type FileFilters, type ListOrder } from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';

const BUCKET_FILES = 100_000;

/**
 * Two tenants of 100 000 files each. In `plans/big` the filtered-for files are rare: 100 archives, 100
 * "Quarterly report" PDFs, 100 of other types, 200 tagged `rare`, 100 modified lately, among JPEGs. In
 * `noisy/big` every file is a tagged "Quarterly report" archive, which would mislead statistics
 * gathered over the whole table.
 */
async function seed(pool: pg.Pool): Promise<void> {
  await pool.query(`
    INSERT INTO tenants (id, owner, storage_bucket, quota_bytes, max_file_size)
      VALUES ('plans', 'test', 'plans', 1e12, 1e9), ('noisy', 'test', 'noisy', 1e12, 1e9);
    INSERT INTO buckets (tenant_id, name) VALUES ('plans', 'big'), ('noisy', 'big');`);
  await pool.query(
    `INSERT INTO files (id, tenant_id, bucket, key, original_name, mimetype, size, etag, allow_public_access,
                        created_at, updated_at, tags, mode)
     SELECT id, 'plans', 'big', id || '.bin',
            CASE i % 1000 WHEN 0 THEN 'backup ' || i || '.zip' WHEN 1 THEN 'Quarterly report ' || i || '.pdf'
                          WHEN 2 THEN 'blob ' || i ELSE 'IMG_' || i || '.jpg' END,
            CASE i % 1000 WHEN 0 THEN 'application/zip' WHEN 1 THEN 'application/pdf'
                          WHEN 2 THEN 'application/octet-stream' ELSE 'image/jpeg' END,
            1000, 'e', true, timestamptz '2024-01-01' + i * interval '1 second',
            CASE WHEN i % 1000 = 5 THEN timestamptz '2025-06-01' ELSE timestamptz '2024-01-01' END
              + i * interval '1 second',
            CASE WHEN i % 500 = 3 THEN ARRAY['camera', 'rare'] ELSE ARRAY['camera'] END, 'live'
     FROM (SELECT i, gen_random_uuid() AS id FROM generate_series(1, $1) AS i) AS g`,
    [BUCKET_FILES],
  );
  // Its files are old: modification times are estimated from table-wide statistics (see the migration
  // that adds them), and recent changes elsewhere would mislead that one filter.
  await pool.query(
    `INSERT INTO files (id, tenant_id, bucket, key, original_name, mimetype, size, etag, allow_public_access,
                        created_at, updated_at, tags, mode)
     SELECT id, 'noisy', 'big', id || '.zip', 'Quarterly report ' || i || '.zip', 'application/zip', 1000, 'e',
            true, timestamptz '2024-01-01' + i * interval '1 second', timestamptz '2024-01-01', ARRAY['rare'], 'live'
     FROM (SELECT i, gen_random_uuid() AS id FROM generate_series(1, $1) AS i) AS g`,
    [BUCKET_FILES],
  );
  await pool.query('ANALYZE files');
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

/**
 * Runs a listing as the API does, on a session that has auto_explain report the plan it ran with (as
 * a notice, with row counts, without timings).
 */
async function listWithPlan(
  pool: pg.Pool,
  options: FileFilters & { limit: number; cursor?: string; order?: ListOrder },
) {
  const client = await pool.connect();
  const plans: PlanNode[] = [];
  const onNotice = (notice: { message?: string }) => {
    const text = notice.message ?? '';
    if (text.includes('"Plan"'))
      plans.push((JSON.parse(text.slice(text.indexOf('{'))) as { Plan: PlanNode }).Plan);
  };
  client.on('notice', onNotice);
  try {
    await client.query(`LOAD 'auto_explain'`);
    await client.query(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
      SET auto_explain.log_timing = off; SET auto_explain.log_format = 'json';
      SET auto_explain.log_level = 'notice'`);
    const page = await listFiles(client, 'plans', 'big', { ...options, mode: 'live' });
    assert.equal(plans.length, 1, 'one query, one plan');
    return { page: page!, plan: plans[0]! };
  } finally {
    client.off('notice', onNotice);
    client.release(true);
  }
}

/** The nodes that read `files`, by what they read through. */
function filesAccess(plan: PlanNode) {
  const all = nodes(plan);
  // A bitmap index scan names no relation; those of the files indexes are the ones named files_*.
  const scans = all.filter((n) => n['Relation Name'] === 'files' || n['Index Name']?.startsWith('files'));
  const rowsRead = all
    .filter((n) => n['Relation Name'] === 'files')
    .reduce(
      (sum, n) =>
        sum +
        (n['Actual Rows'] + (n['Rows Removed by Filter'] ?? 0) + (n['Rows Removed by Index Recheck'] ?? 0)) *
          n['Actual Loops'],
      0,
    );
  return {
    types: scans.map((n) => n['Node Type']),
    indexes: new Set(scans.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []))),
    rowsRead,
  };
}

describe('filtered listings of a bucket of 100 000 files read through their indexes (PostgreSQL)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await databaseBackends[0].create();
    await seed(db.pool);
  });
  after(() => db.drop());

  const cases: { filters: FileFilters & { order?: ListOrder }; index: string; matches: number }[] = [
    { filters: {}, index: 'files_page', matches: BUCKET_FILES },
    { filters: { type: 'archive' }, index: 'files_by_kind', matches: 100 },
    { filters: { type: 'other', order: 'desc' }, index: 'files_by_kind', matches: 100 },
    { filters: { type: 'application/pdf' }, index: 'files_by_type', matches: 100 },
    { filters: { type: 'application/*', order: 'desc' }, index: 'files_by_type', matches: 300 },
    { filters: { tag: 'rare' }, index: 'files_by_tag', matches: 200 },
    { filters: { search: 'QUARTERLY' }, index: 'files_by_name', matches: 100 },
    { filters: { modifiedAfter: new Date('2025-01-01') }, index: 'files_by_update', matches: 100 },
  ];
  for (const { filters, index, matches } of cases) {
    it(`${JSON.stringify(filters)}: two pages through ${index}, no more rows read than match`, async () => {
      const limit = 60;
      let cursor: string | undefined;
      for (let pageNo = 0; pageNo < 2; pageNo++) {
        const { page, plan } = await listWithPlan(db.pool, { ...filters, limit, ...(cursor && { cursor }) });
        assert.equal(page.files.length, Math.min(limit, matches - pageNo * limit));
        const access = filesAccess(plan);
        assert.ok(!access.types.includes('Seq Scan'), `no Seq Scan: ${access.types.join(', ')}`);
        assert.deepEqual([...access.indexes], [index], JSON.stringify(plan));
        // A walk of the bucket in page order would read on until it filled the page: thousands of rows.
        const bound = index === 'files_page' ? 2 * limit : matches + limit;
        assert.ok(access.rowsRead <= bound, `${access.rowsRead} rows read, at most ${bound}`);
        cursor = page.nextCursor ?? undefined;
        if (!cursor) break;
      }
    });
  }
});
