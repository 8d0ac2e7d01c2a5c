import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import type { KeyMode } from '../keys/api-key.ts';
import { emitWebhookEvent, fileEventData } from '../webhooks/webhook-events.ts';
import { toFile, type FileRow } from './file-store.ts';
import type { VariantName } from './object-keys.ts';

type Db = pg.Pool | pg.PoolClient;

const UNDISPATCHED = 'SELECT id, file_id FROM variant_jobs WHERE dispatched_at IS NULL ORDER BY id LIMIT $1';

async function undispatched(db: Db, sql: string, limit: number): Promise<{ id: string; fileId: string }[]> {
  const { rows } = await db.query<{ id: string; file_id: string }>(sql, [limit]);
  return rows.map((r) => ({ id: r.id, fileId: r.file_id }));
}

/** Takes up to `limit` undispatched variant jobs, oldest first, locked until the caller's transaction ends. */
export const claimVariantJobs = (client: pg.PoolClient, limit: number) =>
  undispatched(client, `${UNDISPATCHED} FOR UPDATE SKIP LOCKED`, limit);

/** Undispatched variant jobs, oldest first, without locking: for a single in-process consumer. */
export const pendingVariantJobs = (db: Db, limit: number) => undispatched(db, UNDISPATCHED, limit);

export async function markVariantJobsDispatched(client: Db, ids: string[]): Promise<void> {
  await client.query('UPDATE variant_jobs SET dispatched_at = now() WHERE id = ANY($1::bigint[])', [ids]);
}

/**
 * Puts back in the outbox every dispatched job whose file still waits for its variants, for when the queue
 * may have lost them (Redis restarted without persistence). Jobs the queue still holds are not run twice:
 * it takes a job id only once. Resolves to how many were put back.
 */
export async function redispatchUnfinishedVariantJobs(db: Db): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE variant_jobs j SET dispatched_at = NULL FROM files f
     WHERE f.id = j.file_id AND f.variant_status = 'pending' AND j.dispatched_at IS NOT NULL`,
  );
  return rowCount ?? 0;
}

/** What the worker needs to know about a file, or undefined if it is gone (or expired: soon gone). */
export interface VariantSource {
  fileId: string;
  tenantId: string;
  /** Whose quota its variants count against. */
  mode: KeyMode;
  bucket: string;
  key: string;
  size: number;
  storageBucket: string;
}

export async function getVariantSource(db: Db, fileId: string): Promise<VariantSource | undefined> {
  const { rows } = await db.query<{
    tenant_id: string;
    mode: KeyMode;
    bucket: string;
    key: string;
    size: string;
    storage_bucket: string;
  }>(
    `SELECT f.tenant_id, f.mode, f.bucket, f.key, f.size, t.storage_bucket
     FROM files f JOIN tenants t ON t.id = f.tenant_id
     WHERE f.id = $1 AND f.status = 'ready' AND (f.expires_at IS NULL OR f.expires_at > now())`,
    [fileId],
  );
  const r = rows[0];
  return (
    r && {
      fileId,
      tenantId: r.tenant_id,
      mode: r.mode,
      bucket: r.bucket,
      key: r.key,
      size: Number(r.size),
      storageBucket: r.storage_bucket,
    }
  );
}

/**
 * Records a file's finished variants in the caller's transaction, replacing earlier ones: the file row is
 * locked, and the tenant's usage loses the old variant bytes (already counted) as the new ones are
 * settled by the caller, which must settle first (see the lock order in quotas/reservations.ts), and
 * writes the `variants.ready` event. Returns false if the file was deleted meanwhile.
 */
export async function recordVariants(
  client: pg.PoolClient,
  fileId: string,
  variants: { name: VariantName; size: number; width: number; height: number }[],
): Promise<boolean> {
  const { rows } = await client.query<FileRow & { variant_bytes: string }>(
    'SELECT * FROM files WHERE id = $1 FOR UPDATE',
    [fileId],
  );
  const row = rows[0];
  if (!row) return false;
  const total = variants.reduce((sum, v) => sum + v.size, 0);
  const map = Object.fromEntries(variants.map(({ name, ...rest }) => [name, { status: 'ready', ...rest }]));
  await client.query(
    `UPDATE files SET variant_status = 'ready', variants = $2, variant_bytes = $3 WHERE id = $1`,
    [fileId, JSON.stringify(map), total],
  );
  await client.query(
    'UPDATE tenant_usage SET used_bytes = used_bytes - $2 WHERE tenant_id = $1 AND mode = $3',
    [row.tenant_id, Number(row.variant_bytes), row.mode],
  );
  await emitWebhookEvent(client, {
    tenantId: row.tenant_id,
    mode: row.mode,
    type: 'variants.ready',
    data: { ...fileEventData(toFile(row)), variants: map },
  });
  return true;
}

/**
 * Gives up on a file's variants, with the `variants.failed` event; the original is untouched and keeps
 * being served. Resolves to where the file's variant objects would be, for the caller to remove what a
 * failed attempt wrote, or to undefined if the file is gone or its variants are ready after all.
 */
export function markVariantsFailed(
  pool: pg.Pool,
  fileId: string,
  reason: string,
): Promise<{ storageBucket: string; bucket: string } | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<FileRow & { storage_bucket: string }>(
      `UPDATE files f SET variant_status = 'failed', variants = jsonb_build_object('error', $2::text)
       FROM tenants t WHERE f.id = $1 AND f.variant_status <> 'ready' AND t.id = f.tenant_id
       RETURNING f.*, t.storage_bucket`,
      [fileId, reason.slice(0, 500)],
    );
    const row = rows[0];
    if (!row) return undefined;
    await emitWebhookEvent(client, {
      tenantId: row.tenant_id,
      mode: row.mode,
      type: 'variants.failed',
      data: { ...fileEventData(toFile(row)), error: reason.slice(0, 500) },
    });
    return { storageBucket: row.storage_bucket, bucket: row.bucket };
  });
}
