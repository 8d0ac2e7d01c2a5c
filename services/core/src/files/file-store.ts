import type pg from 'pg';
import { badRequest } from '../errors.ts';
import type { KeyMode } from '../keys/api-key.ts';
import { isUuid } from './object-keys.ts';
import { lockTenantUsage } from '../quotas/reservations.ts';
import type { Statement } from '../db/statement.ts';

type Db = pg.Pool | pg.PoolClient;

export type VariantStatus = 'none' | 'pending' | 'ready' | 'failed';

/**
 * Whose files: one tenant's, in one mode. Files uploaded with a test key live in a sandbox of their
 * tenant that only test keys see, and live keys see only live files; every lookup for a key says which.
 */
export interface FileOwner {
  tenantId: string;
  mode: KeyMode;
}

/** Rows that exist for every route: stored, and not past their expiry (the sweeper deletes those soon). */
const VISIBLE = "status = 'ready' AND (expires_at IS NULL OR expires_at > now())";

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
  mode: KeyMode;
  /** When the file is gone (its bucket's expireAfter, the upload's expiresIn, test mode); null: kept. */
  expiresAt: Date | null;
}

/** A `files` row as the driver gives it. */
export interface FileRow {
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
  mode: KeyMode;
  expires_at: Date | null;
}

export const toFile = (row: FileRow): FileRecord => ({
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
  mode: row.mode,
  expiresAt: row.expires_at,
});

export interface BucketSettings {
  publicDefault: boolean;
  allowedTypes: string[];
  /** Seconds its files live after upload; null: kept. */
  expireAfter: number | null;
}

/** A logical bucket's settings; undeclared buckets get the defaults and are made on first upload. */
export async function getBucketSettings(db: Db, tenantId: string, name: string): Promise<BucketSettings> {
  const { rows } = await db.query<{
    public_default: boolean;
    allowed_types: string[];
    expire_after_seconds: string | null;
  }>(
    'SELECT public_default, allowed_types, expire_after_seconds FROM buckets WHERE tenant_id = $1 AND name = $2',
    [tenantId, name],
  );
  const row = rows[0];
  return row
    ? {
        publicDefault: row.public_default,
        allowedTypes: row.allowed_types,
        expireAfter: row.expire_after_seconds === null ? null : Number(row.expire_after_seconds),
      }
    : { publicDefault: true, allowedTypes: [], expireAfter: null };
}

export type NewFile = Omit<
  FileRecord,
  'createdAt' | 'updatedAt' | 'variants' | 'tags' | 'metadata' | 'expiresAt'
> & {
  /** Seconds from now the upload lets the file live, at most; undefined: as long as its bucket keeps files. */
  expiresIn: number | undefined;
};

/**
 * Adds to `statement` the recording of a stored file, if part `after` has a row (the settled quota
 * reservation of its bytes): creates its logical bucket if needed, inserts its row, which expires after
 * the shorter of `expiresIn` and its bucket's expireAfter (LEAST skips a NULL: no limit), and for images
 * a variant job in the outbox. The new row's bucket is checked at the end of the statement, so a bucket
 * made by the statement counts. Resolves to the part that returns the file's row (a FileRow).
 * (Part names: bucket, lifetime, file, job.)
 */
export function insertFileIn(statement: Statement, file: NewFile, after: string): string {
  const [tenantId, bucket] = [statement.param(file.tenantId), statement.param(file.bucket)];
  statement.with(
    'bucket',
    `INSERT INTO buckets (tenant_id, name) SELECT ${tenantId}, ${bucket} WHERE EXISTS (SELECT FROM ${after})
     ON CONFLICT DO NOTHING`,
  );
  statement.with(
    'lifetime',
    `SELECT LEAST(${statement.param(file.expiresIn ?? null)}::float8,
       (SELECT expire_after_seconds FROM buckets WHERE tenant_id = ${tenantId} AND name = ${bucket})::float8) AS seconds`,
  );
  const values = [
    file.id,
    file.key,
    file.originalName,
    file.mimetype,
    file.size,
    file.etag,
    file.allowPublicAccess,
    file.variantStatus,
    file.mode,
  ].map((value) => statement.param(value));
  statement.with(
    'file',
    `INSERT INTO files (id, tenant_id, bucket, key, original_name, mimetype, size, etag, allow_public_access,
       variant_status, mode, expires_at)
     SELECT ${values[0]}, ${tenantId}, ${bucket}, ${values.slice(1).join(', ')},
       now() + make_interval(secs => seconds)
     FROM lifetime WHERE EXISTS (SELECT FROM ${after})
     RETURNING *`,
  );
  statement.with(
    'job',
    "INSERT INTO variant_jobs (file_id) SELECT id FROM file WHERE variant_status = 'pending'",
  );
  return 'file';
}

/** A file of `owner` (its mode's, not expired), by its key. */
export async function getFile(
  db: Db,
  owner: FileOwner,
  bucket: string,
  key: string,
): Promise<FileRecord | undefined> {
  const { rows } = await db.query<FileRow>(
    `SELECT * FROM files WHERE tenant_id = $1 AND mode = $2 AND bucket = $3 AND key = $4 AND ${VISIBLE}`,
    [owner.tenantId, owner.mode, bucket, key],
  );
  return rows[0] && toFile(rows[0]);
}

/** A file of the tenant, of either mode (as serving finds it), unless it has expired. */
export async function getFileById(
  db: Db,
  tenantId: string,
  bucket: string,
  id: string,
): Promise<FileRecord | undefined> {
  const { rows } = await db.query<FileRow>(
    `SELECT * FROM files WHERE id = $1 AND tenant_id = $2 AND bucket = $3 AND ${VISIBLE}`,
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

/** A keyset position: a row's time and id, and the order of the listing it continues. */
export interface Cursor {
  /** The row's time (a file's created_at) in microseconds since the epoch, as text: exact, unlike a JS Date. */
  t: string;
  id: string;
  /** The order of the listing it continues; cursors from before there was a choice are `asc`. */
  o?: ListOrder;
}

/** The position `cursor` names, for a listing in `order`; 400 BAD_REQUEST if it is not one of ours. */
export function decodeCursor(cursor: string, order: ListOrder): Cursor {
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

export const encodeCursor = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify(cursor)).toString('base64url');

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
  options: FileFilters & {
    limit: number;
    cursor?: string | undefined;
    order?: ListOrder | undefined;
    mode: KeyMode;
  },
): Promise<FilePage | undefined> {
  const order = options.order ?? 'asc';
  const params: unknown[] = [tenantId, bucket, options.mode];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = [`tenant_id = $1 AND bucket = $2 AND mode = $3 AND ${VISIBLE}`];
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

/**
 * The files of `owner` (its mode's) in a bucket that have these keys, expired ones included (they are
 * on their way out anyway); keys of no such file are left out.
 */
export async function getFilesByKey(
  db: Db,
  owner: FileOwner,
  bucket: string,
  keys: string[],
): Promise<FileRecord[]> {
  const { rows } = await db.query<FileRow>(
    `SELECT * FROM files WHERE tenant_id = $1 AND mode = $2 AND bucket = $3 AND key = ANY($4::text[])
       AND status = 'ready'`,
    [owner.tenantId, owner.mode, bucket, keys],
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
 * Changes a file's name, tags, metadata or visibility and marks it modified now; undefined if `owner`
 * has no such file (none of its mode, or expired). The statement's trigger tells every API process to
 * forget the row it may keep (migration 008), so a change of visibility holds from the next request.
 */
export async function updateFile(
  db: Db,
  owner: FileOwner,
  bucket: string,
  key: string,
  changes: FileChanges,
): Promise<FileRecord | undefined> {
  const tags = changes.tags && [...new Set(changes.tags)].sort();
  const { rows } = await db.query<FileRow>(
    `UPDATE files SET original_name = coalesce($5, original_name), tags = coalesce($6, tags),
       metadata = coalesce($7::jsonb, metadata), allow_public_access = coalesce($8, allow_public_access),
       updated_at = now()
     WHERE tenant_id = $1 AND mode = $2 AND bucket = $3 AND key = $4 AND ${VISIBLE} RETURNING *`,
    [
      owner.tenantId,
      owner.mode,
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

/**
 * Deletes the file rows of `owner` that match `condition` (on `files`, with `$1` the tenant and `$2` the
 * mode) and gives their bytes (originals and variants) back to the usage of that mode, in one statement;
 * resolves to the rows deleted. Rows already gone are skipped, so two removals of the same file give its
 * bytes back once.
 */
async function deleteFileRows(
  client: pg.PoolClient,
  owner: FileOwner,
  condition: string,
  params: unknown[],
): Promise<FileRecord[]> {
  const { rows } = await client.query<FileRow>(
    `WITH gone AS (
       DELETE FROM files WHERE tenant_id = $1 AND mode = $2 AND ${condition} RETURNING *
     ), settled AS (
       UPDATE tenant_usage SET used_bytes = used_bytes - (SELECT coalesce(sum(size + variant_bytes), 0) FROM gone),
         file_count = file_count - (SELECT count(*) FROM gone)
       WHERE tenant_id = $1 AND mode = $2
     )
     SELECT * FROM gone`,
    [owner.tenantId, owner.mode, ...params],
  );
  return rows.map(toFile);
}

/**
 * Removes file rows of `owner` by id and gives their bytes back to the usage of its mode, in the
 * caller's transaction; resolves to the files that were still there (for the events that report them).
 */
export async function deleteFileRecords(
  client: pg.PoolClient,
  owner: FileOwner,
  fileIds: string[],
): Promise<FileRecord[]> {
  await lockTenantUsage(client, owner.tenantId, owner.mode);
  return deleteFileRows(client, owner, 'id = ANY($3::uuid[])', [fileIds]);
}

/**
 * Removes every file row of `owner` (its mode's) in a logical bucket, and the bucket itself unless the
 * spec declares it or files of the other mode remain in it, giving their bytes back; resolves to the files
 * removed, whose objects the caller then deletes, or to undefined when the bucket does not exist. The
 * bucket row is locked first, so an upload committing into the bucket meanwhile waits and then lands in a
 * fresh bucket with its bytes counted, instead of being swept away with them uncounted.
 */
export async function deleteBucketRecords(
  client: pg.PoolClient,
  owner: FileOwner,
  bucket: string,
): Promise<{ id: string; key: string }[] | undefined> {
  const { tenantId, mode } = owner;
  await lockTenantUsage(client, tenantId, mode);
  const locked = await client.query('SELECT 1 FROM buckets WHERE tenant_id = $1 AND name = $2 FOR UPDATE', [
    tenantId,
    bucket,
  ]);
  // Files hang off their bucket's row: without it there are none.
  if (locked.rowCount === 0) return undefined;
  const gone = await deleteFileRows(client, owner, 'bucket = $3', [bucket]);
  // The other mode's files would go with the bucket (they hang off its row), uncounted.
  await client.query(
    `DELETE FROM buckets b WHERE tenant_id = $1 AND name = $2 AND NOT declared
       AND NOT EXISTS (SELECT 1 FROM files f WHERE f.tenant_id = b.tenant_id AND f.bucket = b.name)`,
    [tenantId, bucket],
  );
  return gone;
}

/** A file past its expiry, with where its objects are. */
export interface ExpiredFile extends FileOwner {
  id: string;
  bucket: string;
  key: string;
  storageBucket: string;
}

/** Up to `limit` files past their expiry, of every tenant, the longest expired first. */
export async function listExpiredFiles(db: Db, limit: number): Promise<ExpiredFile[]> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    mode: KeyMode;
    bucket: string;
    key: string;
    storage_bucket: string;
  }>(
    `SELECT f.id, f.tenant_id, f.mode, f.bucket, f.key, t.storage_bucket
     FROM files f JOIN tenants t ON t.id = f.tenant_id
     WHERE f.expires_at <= now() ORDER BY f.expires_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    mode: r.mode,
    bucket: r.bucket,
    key: r.key,
    storageBucket: r.storage_bucket,
  }));
}
