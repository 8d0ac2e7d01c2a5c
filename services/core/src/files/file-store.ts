import type pg from 'pg';
import { badRequest } from '../errors.ts';
import { isUuid } from './object-keys.ts';
import { lockTenantUsage } from '../quotas/reservations.ts';

type Db = pg.Pool | pg.PoolClient;

export type VariantStatus = 'none' | 'pending' | 'ready' | 'failed';

export interface FileRecord {
  id: string;
  tenantId: string;
  bucket: string;
  key: string;
  originalName: string;
  mimetype: string;
  size: number;
  etag: string;
  allowPublicAccess: boolean;
  variantStatus: VariantStatus;
  variants: Record<string, { status: string; size?: number }>;
  createdAt: Date;
}

interface FileRow {
  id: string;
  tenant_id: string;
  bucket: string;
  key: string;
  original_name: string;
  mimetype: string;
  size: string;
  etag: string;
  allow_public_access: boolean;
  variant_status: VariantStatus;
  variants: FileRecord['variants'];
  created_at: Date;
}

const toFile = (row: FileRow): FileRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  bucket: row.bucket,
  key: row.key,
  originalName: row.original_name,
  mimetype: row.mimetype,
  size: Number(row.size),
  etag: row.etag,
  allowPublicAccess: row.allow_public_access,
  variantStatus: row.variant_status,
  variants: row.variants,
  createdAt: row.created_at,
});

export interface BucketSettings {
  publicDefault: boolean;
  allowedTypes: string[];
}

/** A logical bucket's settings; undeclared buckets get the defaults and are made on first upload. */
export async function getBucketSettings(db: Db, tenantId: string, name: string): Promise<BucketSettings> {
  const { rows } = await db.query<{ public_default: boolean; allowed_types: string[] }>(
    'SELECT public_default, allowed_types FROM buckets WHERE tenant_id = $1 AND name = $2',
    [tenantId, name],
  );
  const row = rows[0];
  return row
    ? { publicDefault: row.public_default, allowedTypes: row.allowed_types }
    : { publicDefault: true, allowedTypes: [] };
}

export type NewFile = Omit<FileRecord, 'createdAt' | 'variants'>;

/**
 * Records a stored file (creating its logical bucket if needed) and, for images, a variant job in the
 * outbox. Call it inside the transaction that settles the upload's quota reservation.
 */
export async function insertFile(client: pg.PoolClient, file: NewFile): Promise<FileRecord> {
  await client.query('INSERT INTO buckets (tenant_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    file.tenantId,
    file.bucket,
  ]);
  const { rows } = await client.query<FileRow>(
    `INSERT INTO files (id, tenant_id, bucket, key, original_name, mimetype, size, etag, allow_public_access, variant_status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [
      file.id,
      file.tenantId,
      file.bucket,
      file.key,
      file.originalName,
      file.mimetype,
      file.size,
      file.etag,
      file.allowPublicAccess,
      file.variantStatus,
    ],
  );
  if (file.variantStatus === 'pending') {
    await client.query('INSERT INTO variant_jobs (file_id) VALUES ($1)', [file.id]);
  }
  return toFile(rows[0]!);
}

export async function getFile(
  db: Db,
  tenantId: string,
  bucket: string,
  key: string,
): Promise<FileRecord | undefined> {
  const { rows } = await db.query<FileRow>(
    "SELECT * FROM files WHERE tenant_id = $1 AND bucket = $2 AND key = $3 AND status = 'ready'",
    [tenantId, bucket, key],
  );
  return rows[0] && toFile(rows[0]);
}

export async function getFileById(
  db: Db,
  tenantId: string,
  bucket: string,
  id: string,
): Promise<FileRecord | undefined> {
  const { rows } = await db.query<FileRow>(
    "SELECT * FROM files WHERE id = $1 AND tenant_id = $2 AND bucket = $3 AND status = 'ready'",
    [id, tenantId, bucket],
  );
  return rows[0] && toFile(rows[0]);
}

export interface FilePage {
  files: FileRecord[];
  nextCursor: string | null;
}

interface Cursor {
  /** created_at in microseconds since the epoch, as text: exact, unlike a JS Date. */
  t: string;
  id: string;
}

function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    // Microseconds since the epoch fit in 16 digits until the year 2286; more is not a cursor of ours.
    if (
      typeof parsed.t === 'string' &&
      /^\d{1,16}$/.test(parsed.t) &&
      typeof parsed.id === 'string' &&
      isUuid(parsed.id)
    ) {
      return { t: parsed.t, id: parsed.id };
    }
  } catch {
    // reported below
  }
  throw badRequest('Invalid cursor');
}

/**
 * A page of a bucket's files, oldest first, by keyset pagination (stable while files come and go), or
 * undefined when the bucket does not exist. The page hangs off the bucket's row, so one query tells both.
 */
export async function listFiles(
  db: Db,
  tenantId: string,
  bucket: string,
  options: { limit: number; cursor?: string | undefined },
): Promise<FilePage | undefined> {
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const { rows } = await db.query<FileRow & { created_us: string }>(
    `SELECT f.* FROM buckets b LEFT JOIN LATERAL (
       SELECT *, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us FROM files
       WHERE tenant_id = $1 AND bucket = $2 AND status = 'ready'
         AND ($3::bigint IS NULL OR (created_at, id) > ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
       ORDER BY created_at, id LIMIT $5
     ) f ON true
     WHERE b.tenant_id = $1 AND b.name = $2
     ORDER BY f.created_at, f.id`,
    [tenantId, bucket, after?.t ?? null, after?.id ?? null, options.limit + 1],
  );
  if (rows.length === 0) return undefined;
  // An empty bucket is one row of nulls.
  const found = rows.filter((row) => row.id !== null);
  const page = found.slice(0, options.limit);
  const last = page.at(-1);
  const nextCursor =
    found.length > options.limit && last
      ? Buffer.from(JSON.stringify({ t: last.created_us, id: last.id } satisfies Cursor)).toString(
          'base64url',
        )
      : null;
  return { files: page.map(toFile), nextCursor };
}

/** Removes a file's row and gives its bytes (original and variants) back to the tenant's usage. */
export async function deleteFileRecord(
  client: pg.PoolClient,
  tenantId: string,
  fileId: string,
): Promise<void> {
  await lockTenantUsage(client, tenantId);
  await client.query(
    `WITH gone AS (DELETE FROM files WHERE id = $1 RETURNING tenant_id, size + variant_bytes AS bytes)
     UPDATE tenant_usage u SET used_bytes = u.used_bytes - gone.bytes, file_count = u.file_count - 1
     FROM gone WHERE u.tenant_id = gone.tenant_id`,
    [fileId],
  );
}

/**
 * Removes every file row of a logical bucket, and the bucket itself unless the spec declares it, giving
 * their bytes back; resolves to the files removed, whose objects the caller then deletes, or to undefined
 * when the bucket does not exist. The bucket row is locked first, so an upload committing into the bucket
 * meanwhile waits and then lands in a fresh bucket with its bytes counted, instead of being swept away
 * with them uncounted.
 */
export async function deleteBucketRecords(
  client: pg.PoolClient,
  tenantId: string,
  bucket: string,
): Promise<{ id: string; key: string }[] | undefined> {
  await lockTenantUsage(client, tenantId);
  const locked = await client.query('SELECT 1 FROM buckets WHERE tenant_id = $1 AND name = $2 FOR UPDATE', [
    tenantId,
    bucket,
  ]);
  // Files hang off their bucket's row: without it there are none.
  if (locked.rowCount === 0) return undefined;
  const { rows } = await client.query<{ id: string; key: string; bytes: string }>(
    'DELETE FROM files WHERE tenant_id = $1 AND bucket = $2 RETURNING id, key, size + variant_bytes AS bytes',
    [tenantId, bucket],
  );
  const bytes = rows.reduce((sum, r) => sum + Number(r.bytes), 0);
  await client.query(
    'UPDATE tenant_usage SET used_bytes = used_bytes - $2, file_count = file_count - $3 WHERE tenant_id = $1',
    [tenantId, bytes, rows.length],
  );
  await client.query('DELETE FROM buckets WHERE tenant_id = $1 AND name = $2 AND NOT declared', [
    tenantId,
    bucket,
  ]);
  return rows.map((r) => ({ id: r.id, key: r.key }));
}
