import {
  addWebhookEvents,
  eventData,
  eventTime,
  fileEventData,
  insertFileIn,
  serviceUnavailable,
  Statement,
  toFile,
  type FileRecord,
  type FileRow,
  type KeyMode,
  type Settling,
  type SettlingColumns,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { ApiDeps } from '../deps.ts';
import { hasVariants } from './sniff.ts';

/** The quota reserved for a stored file's bytes until it is recorded. */
export interface HeldQuota {
  /**
   * Adds to the recording statement the turning of the reservation into `size` used bytes and one more
   * file; the rest of the statement writes only if it settles (the reservation may be gone: the sweeper
   * took the upload for abandoned).
   */
  settleIn(statement: Statement, size: number): Settling;
}

/** A file whose bytes are in the store, with the quota that holds them: everything but its row. */
export interface StoredFile {
  /** The file's id, the UUID its key starts with. */
  id: string;
  tenantId: string;
  bucket: string;
  /** `<id>.<ext>` */
  key: string;
  size: number;
  /** Read from the bytes. */
  mimetype: string;
  originalName: string;
  allowPublicAccess: boolean;
  /** The mode of the key that uploaded it: test files live in their tenant's sandbox. */
  mode: KeyMode;
  /** Seconds the upload asked the file to live (`expiresIn`); undefined: it did not ask. */
  expiresIn: number | undefined;
  quota: HeldQuota;
}

/**
 * How long the upload lets a file live, in seconds: the shorter of its expiresIn and TEST_FILE_TTL for a
 * test file; undefined: no limit of its own. insertFileIn then applies its bucket's expireAfter too, so that
 * an upload may end its file sooner than its bucket would but never keep it longer than the bucket's
 * owner allows, nor a test file past the sandbox's limit.
 */
function lifetimeOf(lifetimes: (number | undefined)[]): number | undefined {
  const set = lifetimes.filter((seconds): seconds is number => typeof seconds === 'number');
  return set.length ? Math.min(...set) : undefined;
}

/**
 * Records a stored file, however it was uploaded: settles its quota (with any threshold events) and
 * inserts its row (and, for images, its variant job), its audit entry and its `file.uploaded` event in one
 * statement, so that either all happen or none, with its mode and when it expires. A caller whose
 * recording fails still owns the stored bytes and must discard them.
 */
export async function recordFile(
  deps: Pick<ApiDeps, 'pool' | 'config' | 'metrics'>,
  stored: StoredFile,
  audit: AuditContext,
): Promise<FileRecord> {
  const statement = new Statement();
  const settling = stored.quota.settleIn(statement, stored.size);
  const testFileTtl = stored.mode === 'test' ? deps.config.testFileTtlSeconds : undefined;
  const file = {
    id: stored.id,
    tenantId: stored.tenantId,
    bucket: stored.bucket,
    key: stored.key,
    originalName: stored.originalName,
    mimetype: stored.mimetype,
    size: stored.size,
    etag: `"${stored.id}"`,
    allowPublicAccess: stored.allowPublicAccess,
    variantStatus: hasVariants(stored.mimetype, deps.config.variants.rasteriseSvg) ? 'pending' : 'none',
    mode: stored.mode,
    expiresIn: lifetimeOf([stored.expiresIn, testFileTtl]),
  } as const;
  const inserted = insertFileIn(statement, file, settling.settled);
  audit.recordIn(statement, inserted, {
    bucket: file.bucket,
    key: file.key,
    details: { id: file.id, size: file.size, mimetype: file.mimetype },
  });
  // Only the expiry is the database's to tell; the rest of the event is known here.
  const uploaded = eventData(
    statement,
    { ...fileEventData(file), allowPublicAccess: file.allowPublicAccess },
    file.mode,
    { expiresAt: eventTime('expires_at') },
  );
  addWebhookEvents(statement, `${statement.param(file.tenantId)}::text`, [
    settling.thresholdEvents,
    `SELECT mode, 'file.uploaded', ${uploaded} FROM ${inserted}`,
  ]);
  const { rows } = await statement.run<FileRow & SettlingColumns>(
    deps.pool,
    `SELECT ${inserted}.*, ${settling.columns} FROM (VALUES (1)) AS one LEFT JOIN ${inserted} ON true`,
  );
  const row = rows[0];
  // Only a process stalled past the reservation's lifetime gets here; the upload can be sent again.
  if (!settling.outcome(row) || !row)
    throw serviceUnavailable('The upload took too long to record; please send it again', 1);
  audit.wrote();
  const recorded = toFile(row);
  deps.metrics.bytesUploaded.inc(recorded.size);
  return recorded;
}
