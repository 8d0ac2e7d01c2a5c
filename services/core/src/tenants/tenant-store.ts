import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { lockTenantUsage } from '../quotas/reservations.ts';
import { syncWebhooks } from '../webhooks/webhook-deliveries.ts';
import type { RateLimits, StorageTenantSpec } from './storage-tenant.ts';

export interface Tenant {
  id: string;
  owner: string;
  displayName: string;
  storageBucket: string;
  quotaBytes: number;
  /** What test-mode files may store, apart from `quotaBytes`. */
  testQuotaBytes: number;
  maxFileSize: number;
  rateLimits: RateLimits;
  allowedOrigins: string[];
}

export interface ApplyTenantInput {
  id: string;
  /** Who declares the tenant; a tenant id already owned by someone else is not taken over. */
  owner: string;
  storageBucket: string;
  spec: StorageTenantSpec;
}

export type ApplyTenantResult =
  { outcome: 'created' | 'updated'; tenant: Tenant } | { outcome: 'conflict'; owner: string };

interface TenantRow {
  id: string;
  owner: string;
  display_name: string;
  storage_bucket: string;
  quota_bytes: string;
  test_quota_bytes: string;
  max_file_size: string;
  rate_limits: RateLimits;
  allowed_origins: string[];
}

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id,
  owner: row.owner,
  displayName: row.display_name,
  storageBucket: row.storage_bucket,
  quotaBytes: Number(row.quota_bytes),
  testQuotaBytes: Number(row.test_quota_bytes),
  maxFileSize: Number(row.max_file_size),
  rateLimits: row.rate_limits,
  allowedOrigins: row.allowed_origins,
});

/**
 * Creates or updates a tenant row, its usage row, its declared buckets and its webhooks from a
 * StorageTenant spec.
 * Idempotent. The operator and the embedded dev mode both call this; there is no second implementation.
 */
export function applyTenant(pool: pg.Pool, input: ApplyTenantInput): Promise<ApplyTenantResult> {
  const { id, owner, storageBucket, spec } = input;
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<TenantRow & { inserted: boolean }>(
      `INSERT INTO tenants (id, owner, display_name, storage_bucket, quota_bytes, max_file_size, rate_limits, allowed_origins, test_quota_bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET
         display_name = EXCLUDED.display_name, quota_bytes = EXCLUDED.quota_bytes,
         test_quota_bytes = EXCLUDED.test_quota_bytes, max_file_size = EXCLUDED.max_file_size, rate_limits = EXCLUDED.rate_limits,
         allowed_origins = EXCLUDED.allowed_origins, updated_at = now()
       WHERE tenants.owner = EXCLUDED.owner
       RETURNING *, (xmax = 0) AS inserted`,
      [
        id,
        owner,
        spec.displayName,
        storageBucket,
        spec.quota.storage,
        spec.quota.maxFileSize,
        JSON.stringify(spec.rateLimits),
        spec.allowedOrigins,
        spec.quota.testStorage,
      ],
    );
    const row = rows[0];
    if (!row) {
      const existing = await client.query<{ owner: string }>('SELECT owner FROM tenants WHERE id = $1', [id]);
      return { outcome: 'conflict', owner: existing.rows[0]?.owner ?? 'unknown' };
    }
    await client.query(
      "INSERT INTO tenant_usage (tenant_id, mode) VALUES ($1, 'live'), ($1, 'test') ON CONFLICT DO NOTHING",
      [id],
    );
    await syncDeclaredBuckets(client, id, spec.buckets);
    await syncWebhooks(client, id, spec.webhooks);
    return { outcome: row.inserted ? 'created' : 'updated', tenant: toTenant(row) };
  });
}

async function syncDeclaredBuckets(
  client: pg.PoolClient,
  tenantId: string,
  buckets: StorageTenantSpec['buckets'],
): Promise<void> {
  for (const bucket of buckets) {
    await client.query(
      `INSERT INTO buckets (tenant_id, name, public_default, allowed_types, expire_after_seconds, declared)
       VALUES ($1, $2, $3, $4, $5, true)
       ON CONFLICT (tenant_id, name) DO UPDATE SET
         public_default = EXCLUDED.public_default, allowed_types = EXCLUDED.allowed_types,
         expire_after_seconds = EXCLUDED.expire_after_seconds, declared = true`,
      [tenantId, bucket.name, bucket.public, bucket.allowedTypes, bucket.expireAfter ?? null],
    );
  }
  // A bucket dropped from the spec keeps its files; it just goes back to the defaults.
  await client.query(
    `UPDATE buckets SET declared = false, public_default = true, allowed_types = '{}', expire_after_seconds = NULL
     WHERE tenant_id = $1 AND declared AND NOT (name = ANY($2))`,
    [tenantId, buckets.map((b) => b.name)],
  );
}

export async function getTenant(pool: pg.Pool, id: string): Promise<Tenant | undefined> {
  const { rows } = await pool.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [id]);
  return rows[0] && toTenant(rows[0]);
}

/** A bucket as the tenant's StorageTenant declares it. */
export interface DeclaredBucket {
  name: string;
  public: boolean;
  allowedTypes: string[];
  /** Seconds its files live after upload; null: kept. */
  expireAfter: number | null;
}

/** The buckets the tenant's StorageTenant declares, by name. */
export async function listDeclaredBuckets(pool: pg.Pool, tenantId: string): Promise<DeclaredBucket[]> {
  const { rows } = await pool.query<{
    name: string;
    public_default: boolean;
    allowed_types: string[];
    expire_after_seconds: string | null;
  }>(
    `SELECT name, public_default, allowed_types, expire_after_seconds FROM buckets
     WHERE tenant_id = $1 AND declared ORDER BY name`,
    [tenantId],
  );
  return rows.map((r) => ({
    name: r.name,
    public: r.public_default,
    allowedTypes: r.allowed_types,
    expireAfter: r.expire_after_seconds === null ? null : Number(r.expire_after_seconds),
  }));
}

/** Every tenant's object-store bucket. */
export async function listStorageBuckets(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ storage_bucket: string }>(
    'SELECT storage_bucket FROM tenants ORDER BY id',
  );
  return rows.map((r) => r.storage_bucket);
}

/** Every origin some tenant or live key allows, and whether some tenant allows any origin. */
export async function knownOrigins(pool: pg.Pool): Promise<{ anyOrigin: boolean; origins: string[] }> {
  const { rows } = await pool.query<{ any_origin: boolean | null; origins: string[] | null }>(
    `SELECT
       (SELECT bool_or(cardinality(allowed_origins) = 0) FROM tenants) AS any_origin,
       (SELECT array_agg(DISTINCT origin) FROM (
          SELECT unnest(allowed_origins) AS origin FROM tenants
          UNION SELECT unnest(allowed_origins) FROM api_keys WHERE revoked_at IS NULL OR revoked_at > now()
        ) o) AS origins`,
  );
  return { anyOrigin: rows[0]?.any_origin ?? false, origins: rows[0]?.origins ?? [] };
}

/**
 * Deletes a tenant and every row that hangs off it (usage, reservations, keys, buckets, files), if `owner`
 * declared it. Locks are taken in the documented order (reservations, usage, buckets, files) before the
 * cascade, so a delete never deadlocks with an upload still finishing. Idempotent.
 */
export function deleteTenant(pool: pg.Pool, id: string, owner: string): Promise<void> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM quota_reservations WHERE tenant_id = $1 FOR UPDATE', [id]);
    await lockTenantUsage(client, id);
    await client.query('SELECT 1 FROM buckets WHERE tenant_id = $1 FOR UPDATE', [id]);
    await client.query('SELECT 1 FROM files WHERE tenant_id = $1 FOR UPDATE', [id]);
    await client.query('DELETE FROM tenants WHERE id = $1 AND owner = $2', [id, owner]);
  });
}

/** The tenants some declarer owns, by the start of its owner name (e.g. `dev:` for dev mode's files). */
export async function tenantsOwnedBy(pool: pg.Pool, ownerPrefix: string): Promise<Tenant[]> {
  const { rows } = await pool.query<TenantRow>(
    'SELECT * FROM tenants WHERE starts_with(owner, $1) ORDER BY id',
    [ownerPrefix],
  );
  return rows.map(toTenant);
}
