import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import {
  generateApiKey,
  hashApiKey,
  hashesEqual,
  publicPrefix,
  type KeyMode,
  type Scope,
} from './api-key.ts';

/** Who made a key: a StorageTenant's declaration (the operator, dev mode) or a call to POST /keys. */
export type KeySource = 'resource' | 'api';

export interface MintKeyInput {
  tenantId: string;
  name: string;
  scopes: Scope[];
  mode: KeyMode;
  /** undefined: the tenant's allowed origins apply. */
  allowedOrigins?: string[] | undefined;
  /** undefined: the key never expires. */
  expiresAt?: Date | undefined;
}

export interface KeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  mode: KeyMode;
  source: KeySource;
  allowedOrigins: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
  expiresAt: Date | null;
  /** To the minute. */
  lastUsedAt: Date | null;
}

export interface MintedKey extends KeyRecord {
  /** The raw key. It exists only here: hand it to its owner and forget it. */
  raw: string;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  mode: KeyMode;
  source: KeySource;
  allowed_origins: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const toRecord = (row: KeyRow): KeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes,
  mode: row.mode,
  source: row.source,
  allowedOrigins: row.allowed_origins,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
});

/** Mints a key here (`source: api`, as POST /keys does); only its SHA-256 hash is stored. */
export async function mintKey(db: pg.Pool | pg.PoolClient, input: MintKeyInput): Promise<MintedKey> {
  const { raw } = generateApiKey(input.mode);
  const record = await registerKey(db, { ...input, id: randomUUID(), raw, source: 'api' });
  return { ...record, raw };
}

/**
 * Mints a key unless an active key of the tenant (declared or minted, expired or not) already has its
 * name; undefined then. The tenant row is locked meanwhile, so two concurrent mints cannot both take a
 * name (the lock does not stop uploads: they only take key-share locks on it). `andThen` runs in the
 * same transaction once the key is minted (to record it elsewhere: both commit or neither).
 */
export function mintUniquelyNamedKey(
  pool: pg.Pool,
  input: MintKeyInput,
  andThen: (client: pg.PoolClient, key: MintedKey) => Promise<void> = async () => {},
): Promise<MintedKey | undefined> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE', [input.tenantId]);
    const { rowCount } = await client.query(
      `SELECT 1 FROM api_keys WHERE tenant_id = $1 AND name = $2 AND (revoked_at IS NULL OR revoked_at > now())`,
      [input.tenantId, input.name],
    );
    if (rowCount) return undefined;
    const key = await mintKey(client, input);
    await andThen(client, key);
    return key;
  });
}

/**
 * Stores the hash of a key made elsewhere (the operator writes a key to its Secret first, so that a crash
 * in between cannot leave a key nobody holds). Idempotent: registering id again returns the stored record,
 * which may be revoked.
 */
export async function registerKey(
  db: pg.Pool | pg.PoolClient,
  input: MintKeyInput & { id: string; raw: string; source: KeySource },
): Promise<KeyRecord> {
  const { rows } = await db.query<KeyRow>(
    `WITH inserted AS (
       INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, scopes, mode, allowed_origins, source, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING *)
     SELECT * FROM inserted UNION ALL SELECT * FROM api_keys WHERE id = $1`,
    [
      input.id,
      input.tenantId,
      input.name,
      hashApiKey(input.raw),
      publicPrefix(input.raw),
      input.scopes,
      input.mode,
      input.allowedOrigins ?? null,
      input.source,
      input.expiresAt ?? null,
    ],
  );
  return toRecord(rows[0]!);
}

/** Sets a key's scopes and origins, for a spec that changed them without asking for a new key. */
export async function updateKeyGrants(
  db: pg.Pool | pg.PoolClient,
  id: string,
  grants: { scopes: Scope[]; allowedOrigins?: string[] | undefined },
): Promise<void> {
  await db.query('UPDATE api_keys SET scopes = $2, allowed_origins = $3 WHERE id = $1', [
    id,
    grants.scopes,
    grants.allowedOrigins ?? null,
  ]);
}

/**
 * Revokes a key, now or at `at` (a grace period for a rotated key). Never moves an earlier revocation
 * later. Idempotent. Resolves to when the key stops (stopped) working; undefined for an unknown id.
 */
export async function revokeKey(
  db: pg.Pool | pg.PoolClient,
  id: string,
  at?: Date,
): Promise<Date | undefined> {
  const { rows } = await db.query<{ revoked_at: Date }>(
    `UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, 'infinity'), COALESCE($2::timestamptz, now()))
     WHERE id = $1 RETURNING revoked_at`,
    [id, at ?? null],
  );
  return rows[0]?.revoked_at;
}

/**
 * Keys of a tenant that are not revoked yet (including those inside a grace period, and expired ones),
 * oldest first; only those of `source` if given.
 */
export async function listActiveKeys(
  db: pg.Pool | pg.PoolClient,
  tenantId: string,
  source?: KeySource,
): Promise<KeyRecord[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT * FROM api_keys WHERE tenant_id = $1 AND (revoked_at IS NULL OR revoked_at > now())
       AND ($2::text IS NULL OR source = $2)
     ORDER BY created_at, id`,
    [tenantId, source ?? null],
  );
  return rows.map(toRecord);
}

/** Key `id` of the tenant, revoked or not; undefined for an unknown id or another tenant's key. */
export async function getTenantKey(
  db: pg.Pool | pg.PoolClient,
  tenantId: string,
  id: string,
): Promise<KeyRecord | undefined> {
  const { rows } = await db.query<KeyRow>('SELECT * FROM api_keys WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  return rows[0] && toRecord(rows[0]);
}

/**
 * Notes that key `id` was used this minute. A no-op when it already was (by any process), so replicas
 * do not rewrite the row; callers still call it at most once a minute per key.
 */
export async function recordKeyUse(db: pg.Pool | pg.PoolClient, id: string): Promise<void> {
  await db.query(
    `UPDATE api_keys SET last_used_at = date_trunc('minute', now())
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < date_trunc('minute', now()))`,
    [id],
  );
}

/** What authentication needs to know about a presented key. */
export interface KeyPrincipal {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
  mode: KeyMode;
  /** The key's own list if it has one, else the tenant's; empty means any origin. */
  allowedOrigins: string[];
  /** When the key stops working (it expires, or a rotation's grace period ends); null: not planned. */
  validUntil: Date | null;
}

/** Mints a successor for key `oldId` and revokes the old key once `graceMs` has passed, atomically. */
export function rotateKey(
  pool: pg.Pool,
  oldId: string,
  input: MintKeyInput,
  graceMs: number,
): Promise<MintedKey> {
  return withTransaction(pool, async (client) => {
    const minted = await mintKey(client, input);
    await revokeKey(client, oldId, new Date(minted.createdAt.getTime() + graceMs));
    return minted;
  });
}

/**
 * Finds the live key `raw` belongs to. Keys are looked up by their public prefix and then matched by hash
 * in constant time, so response timing says nothing about how close a guess was. The caller has already
 * checked that `raw` is well formed.
 */
export async function findKey(db: pg.Pool, raw: string): Promise<KeyPrincipal | undefined> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    key_hash: Buffer;
    scopes: Scope[];
    mode: KeyMode;
    origins: string[];
    valid_until: Date | null;
  }>(
    `SELECT k.id, k.tenant_id, k.key_hash, k.scopes, k.mode, COALESCE(k.allowed_origins, t.allowed_origins) AS origins,
       LEAST(k.revoked_at, k.expires_at) AS valid_until
     FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
     WHERE k.prefix = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now())
       AND (k.expires_at IS NULL OR k.expires_at > now())`,
    [publicPrefix(raw)],
  );
  const hash = hashApiKey(raw);
  const row = rows.find((r) => hashesEqual(r.key_hash, hash));
  return (
    row && {
      keyId: row.id,
      tenantId: row.tenant_id,
      scopes: row.scopes,
      mode: row.mode,
      allowedOrigins: row.origins,
      validUntil: row.valid_until,
    }
  );
}
