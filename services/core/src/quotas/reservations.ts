import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { quotaExceeded, testQuotaExceeded } from '../errors.ts';
import type { KeyMode } from '../keys/api-key.ts';
import { Statement } from '../db/statement.ts';
import { QUOTA_THRESHOLDS, addWebhookEvents } from '../webhooks/webhook-events.ts';

type Db = pg.Pool | pg.PoolClient;

/*
 * Lock order. Every transaction that touches these rows takes their locks in this order, so that no
 * two can wait for each other: quota_reservations, then tenant_usage (live before test), then buckets,
 * then files.
 *
 * Usage has a row per tenant and mode: files uploaded with test keys count against quota.testStorage
 * and never move the live row, so a sandbox can neither fill nor free the live quota.
 */

/** The quota of usage row `u` of tenant `t`: the one of its mode. */
const QUOTA = "CASE u.mode WHEN 'test' THEN t.test_quota_bytes ELSE t.quota_bytes END";

/**
 * Takes the tenant's usage row of `mode` (or every mode's) first, for a transaction that goes on to lock
 * buckets or files.
 */
export async function lockTenantUsage(
  client: pg.PoolClient,
  tenantId: string,
  mode?: KeyMode,
): Promise<void> {
  await client.query(
    'SELECT 1 FROM tenant_usage WHERE tenant_id = $1 AND ($2::text IS NULL OR mode = $2) ORDER BY mode FOR UPDATE',
    [tenantId, mode ?? null],
  );
}

const exceeded = (mode: KeyMode) => (mode === 'test' ? testQuotaExceeded() : quotaExceeded());

export interface Reservation {
  id: string;
  tenantId: string;
  /** Whose quota it is taken from: live files', or the test sandbox's. */
  mode: KeyMode;
  bytes: number;
}

/**
 * Reserves quota for a write in progress, which must heartbeat it (`extendReservation`) within `ttlMs`:
 * `bytes`, or as much of it as fits but at least `minBytes` (a request whose length is only known
 * within a margin, such as a form around a file). Throws QUOTA_EXCEEDED if that does not fit.
 */
export async function reserveQuota(
  db: pg.Pool,
  input: {
    tenantId: string;
    mode: KeyMode;
    bytes: number;
    minBytes?: number | undefined;
    objectKey: string | null;
    ttlMs: number;
  },
): Promise<Reservation> {
  const id = randomUUID();
  // The usage row is read FOR UPDATE, which serialises concurrent grants, and PostgreSQL re-reads the
  // row it waited for, so no interleaving of requests can overshoot the quota.
  const { rows } = await db.query<{ bytes: string }>(
    `WITH room AS (
       SELECT u.tenant_id, LEAST($2, ${QUOTA} - u.used_bytes - u.reserved_bytes) AS bytes
       FROM tenant_usage u JOIN tenants t ON t.id = u.tenant_id
       WHERE u.tenant_id = $1 AND u.mode = $6 FOR UPDATE OF u),
     granted AS (
       UPDATE tenant_usage u SET reserved_bytes = u.reserved_bytes + room.bytes
       FROM room WHERE u.tenant_id = room.tenant_id AND u.mode = $6 AND room.bytes >= $7
       RETURNING room.bytes)
     INSERT INTO quota_reservations (id, tenant_id, mode, bytes, object_key, expires_at)
     SELECT $3, $1, $6, bytes, $4, now() + make_interval(secs => $5::float8 / 1000) FROM granted
     RETURNING bytes`,
    [
      input.tenantId,
      input.bytes,
      id,
      input.objectKey,
      input.ttlMs,
      input.mode,
      Math.min(input.minBytes ?? input.bytes, input.bytes),
    ],
  );
  const granted = rows[0];
  if (!granted) throw exceeded(input.mode);
  return { id, tenantId: input.tenantId, mode: input.mode, bytes: Number(granted.bytes) };
}

/**
 * Grows a live reservation by `bytes` and pushes its expiry `ttlMs` ahead. Throws QUOTA_EXCEEDED if the
 * growth does not fit, or if the reservation is gone (released by the sweeper); the grant is only made
 * for a reservation that still exists.
 */
export async function extendReservation(
  db: pg.Pool,
  reservation: Reservation,
  bytes: number,
  ttlMs: number,
): Promise<void> {
  const { rowCount } = await db.query(
    `WITH live AS (SELECT id FROM quota_reservations WHERE id = $3 FOR UPDATE),
     granted AS (
       UPDATE tenant_usage u SET reserved_bytes = u.reserved_bytes + $2
       FROM tenants t, live
       WHERE u.tenant_id = $1 AND u.mode = $5 AND t.id = u.tenant_id AND u.used_bytes + u.reserved_bytes + $2 <= ${QUOTA}
       RETURNING u.tenant_id)
     UPDATE quota_reservations r SET bytes = r.bytes + $2, expires_at = now() + make_interval(secs => $4::float8 / 1000)
     FROM granted WHERE r.id = $3`,
    [reservation.tenantId, bytes, reservation.id, ttlMs, reservation.mode],
  );
  if (rowCount !== 1) throw exceeded(reservation.mode);
  reservation.bytes += bytes;
}

/**
 * Keeps a reservation alive for another `ttlMs` without touching the quota (which an operator may have
 * lowered meanwhile: bytes already promised stay promised). False if it is gone.
 */
export async function renewReservation(db: pg.Pool, reservationId: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE quota_reservations SET expires_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1',
    [reservationId, ttlMs],
  );
  return rowCount === 1;
}

/** What settling a reservation adds to a statement (see settleReservationIn). */
export interface Settling {
  /** The part that returns the settled usage row: the statement's other writes happen only if it has one. */
  settled: string;
  /** The `quota.threshold` events it crossed, a query for addWebhookEvents. */
  thresholdEvents: string;
  /** Columns for the statement's select, which `outcome` reads. */
  columns: string;
  /** Whether the reservation settled (false: it is gone), from the row of the statement's select. */
  outcome(row: SettlingColumns | undefined): boolean;
}

export interface SettlingColumns {
  held_bytes: string | null;
  reservation_settled: boolean;
}

/**
 * Adds to `statement` the turning of a reservation into stored bytes: `usedBytes` (at most what was
 * reserved) and `files` more files. Make it part of the statement (or transaction) that records what the
 * bytes are, so either both happen or neither; the rest of that statement must write only if `settled`
 * has a row: if the reservation is gone (the sweeper released it), nothing may be recorded. Usage only
 * grows here, so this is where it crosses a threshold of its quota: `thresholdEvents` has a
 * `quota.threshold` event for each one crossed. The usage row is locked by the update, and PostgreSQL
 * re-reads a row it waited for, so concurrent settles see each other's bytes and each crossing is reported
 * once. (Part names: held, gone, settled, crossed.)
 */
export function settleReservationIn(
  statement: Statement,
  reservation: Reservation,
  usedBytes: number,
  files: number,
): Settling {
  const id = statement.param(reservation.id);
  const used = `${statement.param(usedBytes)}::bigint`;
  statement.with('held', `SELECT bytes FROM quota_reservations WHERE id = ${id}`);
  // Reserved bytes that do not cover `usedBytes` are a bug: the reservation stays, outcome throws.
  statement.with(
    'gone',
    `DELETE FROM quota_reservations WHERE id = ${id} AND bytes >= ${used} RETURNING bytes, mode`,
  );
  const settled = statement.with(
    'settled',
    `UPDATE tenant_usage u SET reserved_bytes = u.reserved_bytes - gone.bytes, used_bytes = u.used_bytes + ${used},
       file_count = u.file_count + ${statement.param(files)}
     FROM tenants t, gone WHERE u.tenant_id = ${statement.param(reservation.tenantId)} AND u.mode = gone.mode
       AND t.id = u.tenant_id
     RETURNING u.tenant_id, u.mode, u.used_bytes, ${QUOTA} AS quota_bytes`,
  );
  statement.with(
    'crossed',
    `SELECT s.mode, 'quota.threshold'::text AS type,
       (SELECT to_json(d) FROM (SELECT s.tenant_id AS "tenantId", p AS threshold, s.used_bytes AS "usedBytes",
         s.quota_bytes AS "quotaBytes", s.used_bytes * 100 / s.quota_bytes AS "percentUsed", s.mode) AS d) AS data
     FROM settled s CROSS JOIN unnest(${statement.param(QUOTA_THRESHOLDS)}::int[]) AS p
     WHERE (s.used_bytes - ${used}) * 100 < p * s.quota_bytes AND s.used_bytes * 100 >= p * s.quota_bytes`,
  );
  return {
    settled,
    thresholdEvents: 'SELECT * FROM crossed',
    columns: '(SELECT bytes FROM held) AS held_bytes, EXISTS (SELECT FROM settled) AS reservation_settled',
    outcome(row) {
      if (!row) return false;
      if (row.reservation_settled) return true;
      if (row.held_bytes !== null && Number(row.held_bytes) < usedBytes)
        throw new Error(`settling ${usedBytes} bytes against a reservation of ${row.held_bytes}`);
      return false;
    },
  };
}

/**
 * Turns a reservation into stored bytes, with its threshold events, in one statement (see
 * settleReservationIn); run it in the transaction that records what the bytes are. Returns false if the
 * reservation is gone, in which case the caller must not record them.
 */
export async function settleReservation(
  db: Db,
  reservation: Reservation,
  usedBytes: number,
  files: number,
): Promise<boolean> {
  const statement = new Statement();
  const settling = settleReservationIn(statement, reservation, usedBytes, files);
  addWebhookEvents(statement, `${statement.param(reservation.tenantId)}::text`, [settling.thresholdEvents]);
  const { rows } = await statement.run<SettlingColumns>(db, `SELECT ${settling.columns}`);
  return settling.outcome(rows[0]);
}

/**
 * Gives a reservation's bytes back. Idempotent: releasing twice, or after settling, does nothing. With
 * `expiredBefore`, only a reservation that expired before then goes (one renewed meanwhile is kept).
 * Resolves to whether it was released.
 */
export async function releaseReservation(
  db: Db,
  reservationId: string,
  expiredBefore?: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH gone AS (
       DELETE FROM quota_reservations WHERE id = $1 AND ($2::timestamptz IS NULL OR expires_at < $2)
       RETURNING tenant_id, mode, bytes)
     UPDATE tenant_usage u SET reserved_bytes = u.reserved_bytes - gone.bytes
     FROM gone WHERE u.tenant_id = gone.tenant_id AND u.mode = gone.mode`,
    [reservationId, expiredBefore ?? null],
  );
  return rowCount === 1;
}

export interface ExpiredReservation {
  id: string;
  tenantId: string;
  storageBucket: string;
  objectKey: string | null;
}

/**
 * Releases up to `limit` reservations whose writer stopped renewing them (it crashed), after
 * `removeObjects` has removed the objects they were writing; resolves to them. Run it in a transaction:
 * the reservations stay locked meanwhile, and if removing fails they are not released, so that the next
 * sweep tries again (released first, an object the store failed to remove would be left to nobody).
 */
export async function releaseExpiredReservations(
  client: pg.PoolClient,
  removeObjects: (expired: ExpiredReservation[]) => Promise<void>,
  limit = 100,
): Promise<ExpiredReservation[]> {
  const { rows } = await client.query<{
    id: string;
    tenant_id: string;
    storage_bucket: string;
    object_key: string | null;
  }>(
    `SELECT r.id, r.tenant_id, t.storage_bucket, r.object_key
     FROM quota_reservations r JOIN tenants t ON t.id = r.tenant_id
     WHERE r.expires_at < now() ORDER BY r.expires_at LIMIT $1 FOR UPDATE OF r SKIP LOCKED`,
    [limit],
  );
  const expired = rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    storageBucket: r.storage_bucket,
    objectKey: r.object_key,
  }));
  if (expired.length === 0) return expired;
  await removeObjects(expired);
  await client.query(
    `WITH expired AS (DELETE FROM quota_reservations WHERE id = ANY($1::uuid[]) RETURNING tenant_id, mode, bytes),
     totals AS (SELECT tenant_id, mode, sum(bytes) AS bytes FROM expired GROUP BY tenant_id, mode)
     UPDATE tenant_usage u SET reserved_bytes = u.reserved_bytes - totals.bytes FROM totals
     WHERE u.tenant_id = totals.tenant_id AND u.mode = totals.mode`,
    [expired.map((r) => r.id)],
  );
  return expired;
}

export interface Usage {
  quotaBytes: number;
  usedBytes: number;
  reservedBytes: number;
  fileCount: number;
}

/** What a tenant stores against the quota of `mode`: live files' (quota.storage) unless it says test. */
export async function getUsage(db: Db, tenantId: string, mode: KeyMode = 'live'): Promise<Usage | undefined> {
  const { rows } = await db.query<{
    quota_bytes: string;
    used_bytes: string;
    reserved_bytes: string;
    file_count: string;
  }>(
    `SELECT ${QUOTA} AS quota_bytes, u.used_bytes, u.reserved_bytes, u.file_count
     FROM tenants t JOIN tenant_usage u ON u.tenant_id = t.id WHERE t.id = $1 AND u.mode = $2`,
    [tenantId, mode],
  );
  const row = rows[0];
  return (
    row && {
      quotaBytes: Number(row.quota_bytes),
      usedBytes: Number(row.used_bytes),
      reservedBytes: Number(row.reserved_bytes),
      fileCount: Number(row.file_count),
    }
  );
}
