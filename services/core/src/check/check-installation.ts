import type pg from 'pg';
import { discardWrite, type ObjectStore } from '../object-store/object-store.ts';
import { objectKeyOf } from '../files/object-keys.ts';
import { LONGEST_UPLOAD_MS } from '../files/upload-lifetimes.ts';
import { releaseReservation } from '../quotas/reservations.ts';
import {
  checkedTenants,
  compareUsage,
  expiredReservations,
  recordCheck,
  requeueVariants,
  settleUsage,
  stuckVariants,
  type CheckedTenant,
} from './check-store.ts';
import { remainingCounts, TenantFindings, type CheckReport } from './check-report.ts';
import { scanObjects } from './scan-objects.ts';

export interface CheckOptions {
  /** Only this tenant; undefined: every tenant. */
  tenantId?: string | undefined;
  /** Fix what is safe to fix; without it nothing changes. */
  repair: boolean;
  /** Keep the counts left in the database, for the metrics (`stowage_check_findings`). */
  record: boolean;
  /**
   * An object no row accounts for is an orphan only once it is this old: an upload writes its object
   * before its row. Default LONGEST_UPLOAD_MS (25 h), longer than any upload lives.
   */
  orphanGraceMs: number;
  /**
   * A reservation or direct upload this long past its expiry was not cleaned up: the sweeper runs every
   * 30 s on every API replica. Default 5 minutes.
   */
  expiredGraceMs: number;
  /** Variants pending this long after their job was queued or handed to a worker are stuck. Default 1 hour. */
  stuckAfterMs: number;
  /** Findings listed per tenant and kind; the rest are only counted. */
  maxDetails: number;
}

export const defaultCheckOptions = {
  repair: false,
  record: false,
  orphanGraceMs: LONGEST_UPLOAD_MS,
  expiredGraceMs: 5 * 60_000,
  stuckAfterMs: 3600_000,
  maxDetails: 100,
} satisfies Partial<CheckOptions>;

type Deps = { pool: pg.Pool; store: ObjectStore };

async function checkUsage(deps: Deps, tenant: CheckedTenant, options: CheckOptions, out: TenantFindings) {
  for (const usage of await compareUsage(deps.pool, tenant.id)) {
    const { recorded, computed } = usage;
    const same = (Object.keys(computed) as (keyof typeof computed)[]).every(
      (k) => recorded[k] === computed[k],
    );
    if (same) continue;
    const settled = options.repair ? await settleUsage(deps.pool, tenant.id, usage.mode) : undefined;
    out.add({
      kind: 'usage-mismatch',
      ...usage,
      repaired: settled !== undefined,
      action: settled
        ? `set to ${JSON.stringify(settled.computed)}`
        : 'settle to the sum of the files and reservations',
    });
  }
}

async function checkReservations(
  deps: Deps,
  tenant: CheckedTenant,
  options: CheckOptions,
  out: TenantFindings,
) {
  const before = new Date(Date.now() - options.expiredGraceMs);
  for (const r of await expiredReservations(deps.pool, tenant.id, before)) {
    const released = options.repair && (await releaseReservation(deps.pool, r.id, before));
    if (released && r.objectKey !== null) await discardWrite(deps.store, tenant.storageBucket, r.objectKey);
    const common = {
      mode: r.mode,
      reservationId: r.id,
      bytes: r.bytes,
      key: r.objectKey,
      expiredAt: r.expiresAt,
    };
    if (r.directUpload) {
      out.add({
        kind: 'expired-direct-upload',
        ...common,
        uploadId: r.directUpload.id,
        s3UploadId: r.directUpload.s3UploadId,
        repaired: released,
        action: released
          ? 'aborted its multipart upload, removed its row and released its quota'
          : 'abort its multipart upload and release its quota',
      });
    } else {
      out.add({
        kind: 'dead-reservation',
        ...common,
        repaired: released,
        action: released
          ? `released ${r.bytes} bytes${r.objectKey ? ' and removed what was written' : ''}`
          : `release ${r.bytes} bytes${r.objectKey ? ' and remove what was written' : ''}`,
      });
    }
  }
}

/** Resolves to the files whose variants --repair queues again (after the scan: it holds the connection). */
async function checkVariants(deps: Deps, tenant: CheckedTenant, options: CheckOptions, out: TenantFindings) {
  const requeue: string[] = [];
  for (const stuck of await stuckVariants(
    deps.pool,
    tenant.id,
    new Date(Date.now() - options.stuckAfterMs),
  )) {
    const lost = stuck.state === 'lost';
    if (lost && options.repair) requeue.push(stuck.fileId);
    out.add({
      kind: 'stuck-variants',
      mode: stuck.mode,
      fileId: stuck.fileId,
      key: objectKeyOf(stuck.bucket, stuck.key),
      state: stuck.state,
      since: stuck.since,
      repaired: lost && options.repair,
      action: lost
        ? options.repair
          ? 'queued again'
          : 'queue again'
        : 'its job waits in the outbox: no worker takes jobs (check the image workers)',
    });
  }
  return requeue;
}

async function checkObjects(deps: Deps, tenant: CheckedTenant, options: CheckOptions, out: TenantFindings) {
  const requeue = new Set<string>();
  await scanObjects(deps, tenant, new Date(Date.now() - options.orphanGraceMs), {
    missing(file, object) {
      const { variant } = object;
      if (variant && options.repair) requeue.add(file.id);
      out.add({
        kind: 'missing-object',
        mode: file.mode,
        fileId: file.id,
        key: object.key,
        ...(variant && { variant }),
        repaired: Boolean(variant) && options.repair,
        action: variant
          ? options.repair
            ? 'variants queued again'
            : 'queue its variants again'
          : 'the bytes are lost: restore the object, or delete the file through the API',
      });
    },
    sizeMismatch(file, object, stored) {
      out.add({
        kind: 'size-mismatch',
        mode: file.mode,
        fileId: file.id,
        key: object.key,
        recordedSize: object.size ?? 0,
        storedSize: stored.size,
        repaired: false,
        action: 'the object is not what was uploaded: restore it, or delete the file through the API',
      });
    },
    async orphans(objects) {
      if (options.repair)
        await deps.store.delete({ bucket: tenant.storageBucket, keys: objects.map((o) => o.key) });
      for (const o of objects) {
        out.add({
          kind: 'orphan-object',
          key: o.key,
          size: o.size,
          lastModified: o.lastModified,
          repaired: options.repair,
          action: options.repair ? 'deleted' : 'delete it',
        });
      }
    },
  });
  return requeue;
}

/**
 * Compares the database with the object store, tenant by tenant: usage against the files and
 * reservations it counts, file rows against their objects (a merge of both, sorted by key), expired
 * reservations and direct uploads the sweeper left, and variants that never came. With `repair`, fixes
 * what is safe to fix and says so in each finding; without it, changes nothing (`record` only adds a row
 * to consistency_checks).
 */
export async function checkInstallation(deps: Deps, options: CheckOptions): Promise<CheckReport> {
  const startedAt = new Date();
  const tenants = [];
  for (const tenant of await checkedTenants(deps.pool, options.tenantId)) {
    const out = new TenantFindings(tenant, options.maxDetails);
    await checkUsage(deps, tenant, options, out);
    await checkReservations(deps, tenant, options, out);
    const requeue = new Set(await checkVariants(deps, tenant, options, out));
    for (const id of await checkObjects(deps, tenant, options, out)) requeue.add(id);
    if (requeue.size) await requeueVariants(deps.pool, [...requeue]);
    tenants.push(out.report);
  }
  const counts = tenants.flatMap((t) => Object.values(t.counts));
  const report: CheckReport = {
    startedAt,
    finishedAt: new Date(),
    repair: options.repair,
    settings: {
      orphanGraceMs: options.orphanGraceMs,
      expiredGraceMs: options.expiredGraceMs,
      stuckAfterMs: options.stuckAfterMs,
      maxDetails: options.maxDetails,
    },
    tenants,
    found: counts.reduce((sum, c) => sum + c.found, 0),
    repaired: counts.reduce((sum, c) => sum + c.repaired, 0),
  };
  if (options.record)
    await recordCheck(deps.pool, { startedAt, repaired: options.repair, findings: remainingCounts(report) });
  return report;
}
