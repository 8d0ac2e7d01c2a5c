import type pg from 'pg';
import { decodeCursor, encodeCursor } from '../files/file-store.ts';
import type { KeyMode } from '../keys/api-key.ts';
import type { Statement } from '../db/statement.ts';
import { deleteInBatches } from '../db/delete-in-batches.ts';

type Db = pg.Pool | pg.PoolClient;

/** One request as the audit log keeps it. Of the key, only its public prefix. */
export interface AuditEntry {
  /** When it happened; undefined: now (the time of the transaction that writes it). */
  at?: Date | undefined;
  /** null: refused before any tenant was known. */
  tenantId: string | null;
  mode: KeyMode | null;
  keyPrefix: string | null;
  /** The route's operationId. */
  action: string;
  bucket: string | null;
  key: string | null;
  status: number;
  requestId: string;
  clientAddress: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  at: Date;
}

interface AuditRow {
  id: string;
  at: Date;
  at_us: string;
  tenant_id: string | null;
  mode: KeyMode | null;
  key_prefix: string | null;
  action: string;
  bucket: string | null;
  object_key: string | null;
  status: number;
  request_id: string;
  client_address: string | null;
  user_agent: string | null;
  details: Record<string, unknown> | null;
}

const toRecord = (row: AuditRow): AuditRecord => ({
  id: row.id,
  at: row.at,
  tenantId: row.tenant_id,
  mode: row.mode,
  keyPrefix: row.key_prefix,
  action: row.action,
  bucket: row.bucket,
  key: row.object_key,
  status: row.status,
  requestId: row.request_id,
  clientAddress: row.client_address,
  userAgent: row.user_agent,
  details: row.details,
});

/**
 * PostgreSQL text cannot hold NUL, and entries quote what clients sent (a bucket name in a JSON body that
 * failed validation, say): it is kept as U+FFFD, so the entry is still written.
 */
const withoutNul = (_key: string, value: unknown) =>
  typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value;

/**
 * The insert of the entries a JSON array parameter holds (`entriesJson`, see entriesJson), if `onlyIf`.
 * An entry whose tenant is gone meanwhile (its log went with it) is left out rather than failing the
 * others.
 */
const auditInsert = (entries: string, onlyIf = 'true') =>
  `INSERT INTO audit_log (at, tenant_id, mode, key_prefix, action, bucket, object_key, status, request_id,
                          client_address, user_agent, details)
   SELECT coalesce(e.at, now()), e.tenant_id, e.mode, e.key_prefix, e.action, e.bucket, e.object_key,
          e.status, e.request_id, e.client_address, e.user_agent, e.details
   FROM jsonb_to_recordset(${entries}::jsonb) AS e(at timestamptz, tenant_id text, mode text, key_prefix text,
     action text, bucket text, object_key text, status smallint, request_id text, client_address text,
     user_agent text, details jsonb)
   WHERE (e.tenant_id IS NULL OR EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id)) AND ${onlyIf}`;

const entriesJson = (entries: AuditEntry[]): string =>
  JSON.stringify(
    entries.map((e) => ({
      at: e.at?.toISOString() ?? null,
      tenant_id: e.tenantId,
      mode: e.mode,
      key_prefix: e.keyPrefix,
      action: e.action,
      bucket: e.bucket,
      object_key: e.key,
      status: e.status,
      request_id: e.requestId,
      client_address: e.clientAddress,
      user_agent: e.userAgent,
      details: e.details,
    })),
    withoutNul,
  );

/** Writes entries in one statement. */
export async function insertAuditEntries(db: Db, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(auditInsert('$1'), [entriesJson(entries)]);
}

/** Adds to `statement` the writing of entries, if part `after` has a row: with the change it returns. */
export function addAuditEntries(statement: Statement, entries: AuditEntry[], after: string): void {
  statement.with(
    'audit',
    auditInsert(statement.param(entriesJson(entries)), `EXISTS (SELECT FROM ${after})`),
  );
}

export interface AuditPage {
  entries: AuditRecord[];
  nextCursor: string | null;
}

/**
 * A page of a tenant's entries of one key mode, newest first, by keyset pagination: a cursor keeps its
 * place while entries are added (newer ones are not in later pages) or swept.
 */
export async function listAuditEntries(
  db: Db,
  owner: { tenantId: string; mode: KeyMode },
  options: {
    since?: Date | undefined;
    action?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<AuditPage> {
  const params: unknown[] = [owner.tenantId, owner.mode];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['tenant_id = $1', 'mode = $2'];
  if (options.since) where.push(`at >= ${param(options.since)}`);
  if (options.action) where.push(`action = ${param(options.action)}`);
  if (options.cursor) {
    const after = decodeCursor(options.cursor, 'desc');
    where.push(
      `(at, id) < ('epoch'::timestamptz + ${param(after.t)}::bigint * interval '1 microsecond', ${param(after.id)}::uuid)`,
    );
  }
  const { rows } = await db.query<AuditRow>(
    `SELECT *, (extract(epoch FROM at) * 1000000)::bigint::text AS at_us FROM audit_log
     WHERE ${where.join(' AND ')}
     ORDER BY at DESC, id DESC LIMIT ${param(options.limit + 1)}`,
    params,
  );
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > options.limit && last ? encodeCursor({ t: last.at_us, id: last.id, o: 'desc' }) : null;
  return { entries: page.map(toRecord), nextCursor };
}

/** Removes entries older than `before`; resolves to how many. */
export function deleteAuditEntriesBefore(db: Db, before: Date): Promise<number> {
  return deleteInBatches(db, 'audit_log', 'at < $1', [before]);
}
