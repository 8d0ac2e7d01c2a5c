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
  /** A set, sorted. */
  tags: string[];
  metadata: Record<string, string>;
  createdAt: Date;
  /** When the file was uploaded or last changed (`updateFile`). */
  updatedAt: Date;
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
  tags: string[];
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date;
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
  tags: row.tags,
  metadata: row.metadata,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
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

export type NewFile = Omit<FileRecord, 'createdAt' | 'updatedAt' | 'variants' | 'tags' | 'metadata'>;

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

/** The type categories a listing filters on; the migration that adds `files.kind` defines them. */
export const FILE_KINDS = ['image', 'video', 'audio', 'document', 'archive', 'other'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** What a listing may be narrowed to: a file is listed if it matches every filter given. */
export interface FileFilters {
  /** A category (FILE_KINDS), a MIME pattern (`image/*`) or an exact MIME type. */
  type?: string | undefined;
  tag?: string | undefined;
  /** Part of the original name, in any case. */
  search?: string | undefined;
  /** Uploaded or changed after this time. */
  modifiedAfter?: Date | undefined;
}

export type ListOrder = 'asc' | 'desc';

interface Cursor {
  /** created_at in microseconds since the epoch, as text: exact, unlike a JS Date. */
  t: string;
  id: string;
  /** The order of the listing it continues; cursors from before there was a choice are `asc`. */
  o?: ListOrder;
}

function decodeCursor(cursor: string, order: ListOrder): Cursor {
  let parsed: Partial<Cursor> | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    // reported below
  }
  // Microseconds since the epoch fit in 16 digits until the year 2286; more is not a cursor of ours.
  if (
    typeof parsed?.t !== 'string' ||
    !/^\d{1,16}$/.test(parsed.t) ||
    typeof parsed.id !== 'string' ||
    !isUuid(parsed.id) ||
    (parsed.o !== undefined && parsed.o !== 'asc' && parsed.o !== 'desc')
  ) {
    throw badRequest('Invalid cursor');
  }
  // A position means "after" in one order and "before" in the other: continuing the wrong way would
  // answer a page that quietly overlaps or skips the one before.
  const made = parsed.o ?? 'asc';
  if (made !== order)
    throw badRequest(`This cursor continues a listing in ${made} order: pass order=${made}`);
  return { t: parsed.t, id: parsed.id };
}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

/** `%`, `_` and the escape character itself, taken literally in a LIKE pattern. */
const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** How the filter indexes spell a value of a bucket (see the migration that adds `files.kind`). */
const scoped = (column: string) => `(tenant_id || '/' || bucket || '/' || ${column})`;

/**
 * The SQL conditions for `filters`, each written to use its index; `param` binds a value and answers
 * its placeholder.
 */
function filterConditions(filters: FileFilters, scope: string, param: (value: unknown) => string): string[] {
  const where: string[] = [];
  const { type, tag, search, modifiedAfter } = filters;
  if (type !== undefined) {
    if ((FILE_KINDS as readonly string[]).includes(type)) where.push(`kind = ${param(type)}`);
    else if (type.endsWith('/*'))
      where.push(`${scoped('mimetype')} LIKE ${param(`${likeLiteral(scope + type.slice(0, -1))}%`)}`);
    else where.push(`${scoped('mimetype')} = ${param(scope + type)}`);
  }
  if (tag !== undefined) {
    where.push(`file_scoped_tags(tenant_id, bucket, tags) @> ARRAY[${param(scope + tag)}]::text[]`);
  }
  if (search !== undefined) {
    where.push(`${scoped('original_name')} ILIKE ${param(`${likeLiteral(scope)}%${likeLiteral(search)}%`)}`);
  }
  if (modifiedAfter !== undefined) where.push(`updated_at > ${param(modifiedAfter)}`);
  return where;
}

/**
 * A page of a bucket's files in creation order (oldest first, or newest with `desc`) that match the
 * filters, by keyset pagination (stable while files come and go or change), or undefined when the
 * bucket does not exist. The page hangs off the bucket's row, so one query tells both.
 */
export async function listFiles(
  db: Db,
  tenantId: string,
  bucket: string,
  options: FileFilters & { limit: number; cursor?: string | undefined; order?: ListOrder | undefined },
): Promise<FilePage | undefined> {
  const order = options.order ?? 'asc';
  const params: unknown[] = [tenantId, bucket];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ["tenant_id = $1 AND bucket = $2 AND status = 'ready'"];
  where.push(...filterConditions(options, `${tenantId}/${bucket}/`, param));
  if (options.cursor) {
    const after = decodeCursor(options.cursor, order);
    where.push(
      `(created_at, id) ${order === 'asc' ? '>' : '<'} ` +
        `('epoch'::timestamptz + ${param(after.t)}::bigint * interval '1 microsecond', ${param(after.id)}::uuid)`,
    );
  }
  const direction = order === 'asc' ? 'ASC' : 'DESC';
  const { rows } = await db.query<FileRow & { created_us: string }>(
    `SELECT f.* FROM buckets b LEFT JOIN LATERAL (
       SELECT *, (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_us FROM files
       WHERE ${where.join(' AND ')}
       ORDER BY created_at ${direction}, id ${direction} LIMIT ${param(options.limit + 1)}
     ) f ON true
     WHERE b.tenant_id = $1 AND b.name = $2
     ORDER BY f.created_at ${direction}, f.id ${direction}`,
    params,
  );
  if (rows.length === 0) return undefined;
  // An empty bucket, or one with nothing that matches, is one row of nulls.
  const found = rows.filter((row) => row.id !== null);
  const page = found.slice(0, options.limit);
  const last = page.at(-1);
  const nextCursor =
    found.length > options.limit && last ? encodeCursor({ t: last.created_us, id: last.id, o: order }) : null;
  return { files: page.map(toFile), nextCursor };
}

/** The files of a bucket that have these keys; keys of no file are left out. */
export async function getFilesByKey(
  db: Db,
  tenantId: string,
  bucket: string,
  keys: string[],
): Promise<FileRecord[]> {
  const { rows } = await db.query<FileRow>(
    "SELECT * FROM files WHERE tenant_id = $1 AND bucket = $2 AND key = ANY($3::text[]) AND status = 'ready'",
    [tenantId, bucket, keys],
  );
  return rows.map(toFile);
}

/** What `updateFile` may change; what is left out stays as it is. */
export interface FileChanges {
  originalName?: string | undefined;
  /** Replaces the file's tags: a set, stored sorted. */
  tags?: string[] | undefined;
  /** Replaces the file's metadata. */
  metadata?: Record<string, string> | undefined;
  allowPublicAccess?: boolean | undefined;
}

/**
 * Changes a file's name, tags, metadata or visibility and marks it modified now; undefined if there is
 * no such file. Serving reads the row on every request, so a change of visibility holds from the next.
 */
export async function updateFile(
  db: Db,
  tenantId: string,
  bucket: string,
  key: string,
  changes: FileChanges,
): Promise<FileRecord | undefined> {
  const tags = changes.tags && [...new Set(changes.tags)].sort();
  const { rows } = await db.query<FileRow>(
    `UPDATE files SET original_name = coalesce($4, original_name), tags = coalesce($5, tags),
       metadata = coalesce($6::jsonb, metadata), allow_public_access = coalesce($7, allow_public_access),
       updated_at = now()
     WHERE tenant_id = $1 AND bucket = $2 AND key = $3 AND status = 'ready' RETURNING *`,
    [
      tenantId,
      bucket,
      key,
      changes.originalName ?? null,
      tags ?? null,
      changes.metadata ? JSON.stringify(changes.metadata) : null,
      changes.allowPublicAccess ?? null,
    ],
  );
  return rows[0] && toFile(rows[0]);
}

/** Gives the bytes of files just deleted (originals and variants) back to the tenant's usage. */
async function returnUsage(
  client: pg.PoolClient,
  tenantId: string,
  gone: { bytes: string }[],
): Promise<void> {
  const bytes = gone.reduce((sum, r) => sum + Number(r.bytes), 0);
  await client.query(
    'UPDATE tenant_usage SET used_bytes = used_bytes - $2, file_count = file_count - $3 WHERE tenant_id = $1',
    [tenantId, bytes, gone.length],
  );
}

/**
 * Removes file rows by id and gives their bytes (originals and variants) back to the tenant's usage,
 * in the caller's transaction. Rows already gone are skipped, so two removals of the same file give
 * its bytes back once.
 */
export async function deleteFileRecords(
  client: pg.PoolClient,
  tenantId: string,
  fileIds: string[],
): Promise<void> {
  await lockTenantUsage(client, tenantId);
  const { rows } = await client.query<{ bytes: string }>(
    'DELETE FROM files WHERE tenant_id = $1 AND id = ANY($2::uuid[]) RETURNING size + variant_bytes AS bytes',
    [tenantId, fileIds],
  );
  await returnUsage(client, tenantId, rows);
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
  await returnUsage(client, tenantId, rows);
  await client.query('DELETE FROM buckets WHERE tenant_id = $1 AND name = $2 AND NOT declared', [
    tenantId,
    bucket,
  ]);
  return rows.map((r) => ({ id: r.id, key: r.key }));
}
