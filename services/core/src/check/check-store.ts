import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import type { VariantStatus } from '../files/file-store.ts';
import type { KeyMode } from '../keys/api-key.ts';
import { lockTenantUsage } from '../quotas/reservations.ts';

type Db = pg.Pool | pg.PoolClient;

/** The queries of `stowage check`: what the database says a tenant stores, and the repairs it may make. */

export interface CheckedTenant {
  id: string;
  storageBucket: string;
}

/** Every tenant, or the one named; empty when there is no such tenant. */
export async function checkedTenants(db: Db, tenantId?: string): Promise<CheckedTenant[]> {
  const { rows } = await db.query<{ id: string; storage_bucket: string }>(
    'SELECT id, storage_bucket FROM tenants WHERE $1::text IS NULL OR id = $1 ORDER BY id',
    [tenantId ?? null],
  );
  return rows.map((r) => ({ id: r.id, storageBucket: r.storage_bucket }));
}

export interface UsageCounts {
  usedBytes: number;
  reservedBytes: number;
  fileCount: number;
}

/** A usage row as recorded, and as the tenant's files and reservations of its mode add up. */
export interface UsageComparison {
  mode: KeyMode;
  recorded: UsageCounts;
  computed: UsageCounts;
}

// Every statement that changes files or reservations changes the usage row in the same transaction, so
// one statement (one snapshot) sees them agree unless they drifted apart.
const COMPUTED = `
  (SELECT coalesce(sum(f.size + f.variant_bytes), 0) FROM files f WHERE f.tenant_id = u.tenant_id AND f.mode = u.mode)
    AS computed_used,
  (SELECT coalesce(sum(r.bytes), 0) FROM quota_reservations r WHERE r.tenant_id = u.tenant_id AND r.mode = u.mode)
    AS computed_reserved,
  (SELECT count(*) FROM files f WHERE f.tenant_id = u.tenant_id AND f.mode = u.mode) AS computed_files`;

interface UsageRow {
  mode: KeyMode;
  used_bytes: string;
  reserved_bytes: string;
  file_count: string;
  computed_used: string;
  computed_reserved: string;
  computed_files: string;
}

const toComparison = (r: UsageRow): UsageComparison => ({
  mode: r.mode,
  recorded: {
    usedBytes: Number(r.used_bytes),
    reservedBytes: Number(r.reserved_bytes),
    fileCount: Number(r.file_count),
  },
  computed: {
    usedBytes: Number(r.computed_used),
    reservedBytes: Number(r.computed_reserved),
    fileCount: Number(r.computed_files),
  },
});

export async function compareUsage(db: Db, tenantId: string): Promise<UsageComparison[]> {
  const { rows } = await db.query<UsageRow>(
    `SELECT u.mode, u.used_bytes, u.reserved_bytes, u.file_count, ${COMPUTED}
     FROM tenant_usage u WHERE u.tenant_id = $1 ORDER BY u.mode`,
    [tenantId],
  );
  return rows.map(toComparison);
}

/**
 * Sets a usage row to what its files and reservations add up to, with the row locked so that no upload,
 * delete or release commits between the sums and the update; resolves to the row before and after.
 */
export function settleUsage(
  pool: pg.Pool,
  tenantId: string,
  mode: KeyMode,
): Promise<UsageComparison | undefined> {
  return withTransaction(pool, async (client) => {
    await lockTenantUsage(client, tenantId, mode);
    const { rows } = await client.query<UsageRow>(
      `WITH before AS (SELECT u.*, ${COMPUTED} FROM tenant_usage u WHERE u.tenant_id = $1 AND u.mode = $2)
       UPDATE tenant_usage u SET used_bytes = b.computed_used, reserved_bytes = b.computed_reserved,
         file_count = b.computed_files
       FROM before b WHERE u.tenant_id = b.tenant_id AND u.mode = b.mode
       RETURNING b.mode, b.used_bytes, b.reserved_bytes, b.file_count, b.computed_used, b.computed_reserved,
         b.computed_files`,
      [tenantId, mode],
    );
    return rows[0] && toComparison(rows[0]);
  });
}

/** What the check needs to know of a file row: where its objects are, and which of them exist. */
export interface ScannedFile {
  id: string;
  mode: KeyMode;
  bucket: string;
  key: string;
  size: number;
  variantStatus: VariantStatus;
  variants: Record<string, { status?: string; size?: number }>;
}

interface ScannedRow {
  id: string;
  mode: KeyMode;
  bucket: string;
  key: string;
  size: string;
  variant_status: VariantStatus;
  variants: ScannedFile['variants'];
}

const SCANNED = 'id, mode, bucket, key, size, variant_status, variants';
const toScanned = (r: ScannedRow): ScannedFile => ({
  id: r.id,
  mode: r.mode,
  bucket: r.bucket,
  key: r.key,
  size: Number(r.size),
  variantStatus: r.variant_status,
  variants: r.variants,
});

/**
 * Runs `work` with every file row of the tenant, ordered by object key in the byte order the store lists
 * keys in, fetched `batch` rows at a time through a cursor (one sort, however many files), and with the
 * connection that holds the cursor for other reads: an embedded database has only the one.
 */
export async function withFileScan<T>(
  pool: pg.Pool,
  tenantId: string,
  work: (files: AsyncIterable<ScannedFile>, db: pg.PoolClient) => Promise<T>,
  batch = 500,
): Promise<T> {
  return withTransaction(
    pool,
    async (client) => {
      // A cursor takes no bind parameters: the tenant id goes in as a quoted literal.
      await client.query(
        `DECLARE check_files NO SCROLL CURSOR FOR SELECT ${SCANNED} FROM files
         WHERE tenant_id = ${client.escapeLiteral(tenantId)} ORDER BY (bucket || '/' || key) COLLATE "C"`,
      );
      async function* files(): AsyncGenerator<ScannedFile> {
        for (;;) {
          const { rows } = await client.query<ScannedRow>(`FETCH ${batch} FROM check_files`);
          yield* rows.map(toScanned);
          if (rows.length < batch) return;
        }
      }
      return work(files(), client);
    },
    { readOnly: true },
  );
}

/** The tenant's files with these ids, as they are now. */
export async function filesById(db: Db, tenantId: string, ids: string[]): Promise<ScannedFile[]> {
  const { rows } = await db.query<ScannedRow>(
    `SELECT ${SCANNED} FROM files WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
    [tenantId, ids],
  );
  return rows.map(toScanned);
}

/** Object keys that writes in progress hold, without a file row yet: reservations' and direct uploads'. */
export async function keysInFlight(db: Db, tenantId: string): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    `SELECT object_key AS key FROM quota_reservations WHERE tenant_id = $1 AND object_key IS NOT NULL
     UNION SELECT bucket || '/' || file_key FROM direct_uploads WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows.map((r) => r.key);
}

/** A reservation past its expiry, and the direct upload it belongs to, if any. */
export interface StaleReservation {
  id: string;
  mode: KeyMode;
  bytes: number;
  objectKey: string | null;
  expiresAt: Date;
  directUpload: { id: string; s3UploadId: string } | undefined;
}

/** The tenant's reservations that expired before `before`: nobody renews them any more. */
export async function expiredReservations(
  db: Db,
  tenantId: string,
  before: Date,
): Promise<StaleReservation[]> {
  const { rows } = await db.query<{
    id: string;
    mode: KeyMode;
    bytes: string;
    object_key: string | null;
    expires_at: Date;
    upload_id: string | null;
    s3_upload_id: string | null;
  }>(
    `SELECT r.id, r.mode, r.bytes, r.object_key, r.expires_at, d.id AS upload_id, d.s3_upload_id
     FROM quota_reservations r LEFT JOIN direct_uploads d ON d.reservation_id = r.id
     WHERE r.tenant_id = $1 AND r.expires_at < $2 ORDER BY r.expires_at, r.id`,
    [tenantId, before],
  );
  return rows.map((r) => ({
    id: r.id,
    mode: r.mode,
    bytes: Number(r.bytes),
    objectKey: r.object_key,
    expiresAt: r.expires_at,
    directUpload:
      r.upload_id === null || r.s3_upload_id === null
        ? undefined
        : { id: r.upload_id, s3UploadId: r.s3_upload_id },
  }));
}

/**
 * `waiting`: its job sits in the outbox and no worker took it; `lost`: its job was handed to the queue and
 * the file never heard back (the queue lost it, or recording the outcome failed).
 */
export type StuckState = 'waiting' | 'lost';

export interface StuckVariants {
  fileId: string;
  mode: KeyMode;
  bucket: string;
  key: string;
  state: StuckState;
  since: Date;
}

/**
 * The tenant's live files whose variants are still pending: a job waiting in the outbox since before
 * `before`, or none waiting and the last one handed out (or the upload, if there never was one) before it.
 */
export async function stuckVariants(db: Db, tenantId: string, before: Date): Promise<StuckVariants[]> {
  const { rows } = await db.query<{
    id: string;
    mode: KeyMode;
    bucket: string;
    key: string;
    waiting_since: Date | null;
    handed_out: Date;
  }>(
    `SELECT f.id, f.mode, f.bucket, f.key, j.waiting_since, coalesce(j.handed_out, f.created_at) AS handed_out
     FROM files f LEFT JOIN LATERAL (
       SELECT min(created_at) FILTER (WHERE dispatched_at IS NULL) AS waiting_since,
         max(dispatched_at) AS handed_out
       FROM variant_jobs WHERE file_id = f.id) j ON true
     WHERE f.tenant_id = $1 AND f.variant_status = 'pending' AND (f.expires_at IS NULL OR f.expires_at > now())
       AND coalesce(j.waiting_since, coalesce(j.handed_out, f.created_at)) < $2
     ORDER BY f.created_at, f.id`,
    [tenantId, before],
  );
  return rows.map((r) => ({
    fileId: r.id,
    mode: r.mode,
    bucket: r.bucket,
    key: r.key,
    state: r.waiting_since ? 'waiting' : 'lost',
    since: r.waiting_since ?? r.handed_out,
  }));
}

/**
 * Puts a new variant job for each file in the outbox, for the workers to make its variants again (jobs
 * are idempotent). Resolves to the ids of the files that still exist.
 */
export async function requeueVariants(db: Db, fileIds: string[]): Promise<string[]> {
  const { rows } = await db.query<{ file_id: string }>(
    `INSERT INTO variant_jobs (file_id) SELECT id FROM files WHERE id = ANY($1::uuid[]) RETURNING file_id`,
    [fileIds],
  );
  return rows.map((r) => r.file_id);
}

/** Finding counts of one run: by tenant, then by kind. */
export type FindingCounts = Record<string, Record<string, number>>;

/** Records a run over every tenant, and forgets runs older than 90 days. */
export async function recordCheck(
  db: Db,
  run: { startedAt: Date; repaired: boolean; findings: FindingCounts },
): Promise<void> {
  await db.query(
    `WITH old AS (DELETE FROM consistency_checks WHERE finished_at < now() - interval '90 days')
     INSERT INTO consistency_checks (started_at, repaired, findings) VALUES ($1, $2, $3)`,
    [run.startedAt, run.repaired, JSON.stringify(run.findings)],
  );
}

/** A run `stowage check --record` kept. */
export interface RecordedCheck {
  finishedAt: Date;
  findings: FindingCounts;
}

/** The latest recorded run, if any. */
export async function latestCheck(db: Db): Promise<RecordedCheck | undefined> {
  const { rows } = await db.query<{ finished_at: Date; findings: FindingCounts }>(
    'SELECT finished_at, findings FROM consistency_checks ORDER BY finished_at DESC, id DESC LIMIT 1',
  );
  const row = rows[0];
  return row && { finishedAt: row.finished_at, findings: row.findings };
}
