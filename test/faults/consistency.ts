import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { checkInstallation, defaultCheckOptions, type ObjectStore } from '@stowage/core';

/**
 * What is inconsistent between the database and the store once traffic has stopped: whatever `stowage
 * check` finds with no grace for writes in flight (there are none), plus what it leaves to the sweeper:
 * a quota reservation still held, or a store upload still open.
 */
export async function inconsistencies(deps: {
  pool: pg.Pool;
  store: ObjectStore;
  s3: S3Client;
}): Promise<string[]> {
  const report = await checkInstallation(deps, {
    ...defaultCheckOptions,
    orphanGraceMs: 0,
    expiredGraceMs: 0,
    stuckAfterMs: 0,
  });
  const problems = report.tenants.flatMap((t) =>
    t.findings.map((f) => `${t.tenantId}: ${f.kind}: ${JSON.stringify(f)}`),
  );
  const reservations = await deps.pool.query('SELECT id, object_key FROM quota_reservations');
  for (const r of reservations.rows) problems.push(`reservation ${r.id} (${r.object_key}) left`);
  for (const t of report.tenants) {
    const open = await deps.s3.send(new ListMultipartUploadsCommand({ Bucket: t.storageBucket }));
    for (const u of open.Uploads ?? []) problems.push(`${t.tenantId}: ${u.Key} is an upload left open`);
  }
  return problems;
}
