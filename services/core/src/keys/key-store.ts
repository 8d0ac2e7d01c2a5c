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

export interface MintKeyInput {
  tenantId: string;
  name: string;
  scopes: Scope[];
  mode: KeyMode;
  /** undefined: the tenant's allowed origins apply. */
  allowedOrigins?: string[] | undefined;
}

export interface MintedKey {
  id: string;
  /** The raw key. It exists only here: hand it to its owner and forget it. */
  raw: string;
  prefix: string;
  createdAt: Date;
}

export interface KeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  mode: KeyMode;
  allowedOrigins: string[] | null;
  createdAt: Date;
  revokedAt: Date | null;
}

interface KeyRow {
  id: string;
  tenant_id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  mode: KeyMode;
  allowed_origins: string[] | null;
  created_at: Date;
  revoked_at: Date | null;
}

const toRecord = (row: KeyRow): KeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes,
  mode: row.mode,
  allowedOrigins: row.allowed_origins,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/** Mints a key; only its SHA-256 hash is stored. */
export async function mintKey(db: pg.Pool | pg.PoolClient, input: MintKeyInput): Promise<MintedKey> {
  const { raw } = generateApiKey(input.mode);
  const record = await registerKey(db, { ...input, id: randomUUID(), raw });
  return { id: record.id, raw, prefix: record.prefix, createdAt: record.createdAt };
}

/**
 * Stores the hash of a key made elsewhere (the operator writes a key to its Secret first, so that a crash
 * in between cannot leave a key nobody holds). Idempotent: registering id again returns the stored record,
 * which may be revoked.
 */
export async function registerKey(
  db: pg.Pool | pg.PoolClient,
  input: MintKeyInput & { id: string; raw: string },
): Promise<KeyRecord> {
  const { rows } = await db.query<KeyRow>(
    `WITH inserted AS (
       INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, scopes, mode, allowed_origins)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING *)
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
 * later. Idempotent.
 */
export async function revokeKey(db: pg.Pool | pg.PoolClient, id: string, at?: Date): Promise<void> {
  await db.query(
    `UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, 'infinity'), COALESCE($2::timestamptz, now()))
     WHERE id = $1`,
    [id, at ?? null],
  );
}

/** Keys of a tenant that are not revoked yet (including those inside a grace period), oldest first. */
export async function listActiveKeys(db: pg.Pool | pg.PoolClient, tenantId: string): Promise<KeyRecord[]> {
  const { rows } = await db.query<KeyRow>(
    `SELECT * FROM api_keys WHERE tenant_id = $1 AND (revoked_at IS NULL OR revoked_at > now())
     ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toRecord);
}

/** What authentication needs to know about a presented key. */
export interface KeyPrincipal {
  keyId: string;
  tenantId: string;
  scopes: Scope[];
  mode: KeyMode;
  /** The key's own list if it has one, else the tenant's; empty means any origin. */
  allowedOrigins: string[];
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
  }>(
    `SELECT k.id, k.tenant_id, k.key_hash, k.scopes, k.mode, COALESCE(k.allowed_origins, t.allowed_origins) AS origins
     FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
     WHERE k.prefix = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now())`,
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
    }
  );
}
