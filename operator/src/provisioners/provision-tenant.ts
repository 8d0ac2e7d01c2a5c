import type pg from 'pg';
import { getTenant, type ObjectStore, type StorageTenantSpec } from '@stowage/core';
import { cleanupTenantBucket, ensureTenantBucket } from './bucket.ts';
import type { Change } from './change.ts';
import type { KeyVault } from './key-vault.ts';
import { cleanupKeys, ensureKeys, type KeyStatus } from './keys.ts';
import { TenantIdConflictError, cleanupTenantRow, ensureTenantRow } from './tenant-row.ts';
import { ensureWebhookSecret, type WebhookSecretVault } from './webhook-secret.ts';

export interface ProvisionDeps {
  pool: pg.Pool;
  store: ObjectStore;
  /** How long a rotated key keeps working after its successor exists. */
  keyGraceMs: number;
}

/** A tenant as declared by a StorageTenant (a resource in a cluster, a YAML file in dev mode). */
export interface DesiredTenant {
  id: string;
  /** Who declares it, e.g. `kubernetes:<namespace>/<name>`; another declarer of the same id conflicts. */
  owner: string;
  /** The object-store bucket that holds the tenant's files. */
  storageBucket: string;
  spec: StorageTenantSpec;
  vault: KeyVault;
  /** Where the signing secret of its webhooks is kept. */
  webhookSecret: WebhookSecretVault;
}

/** The steps, in the order they run; each names the condition it reports. */
export const provisionSteps = ['DatabaseSynced', 'BucketReady', 'KeysReady'] as const;
export type ProvisionStep = (typeof provisionSteps)[number];

export interface ProvisionFailure {
  step: ProvisionStep;
  reason: string;
  message: string;
  /** false when trying again cannot help until something else changes (a conflicting tenant id). */
  retry: boolean;
}

export interface ProvisionResult {
  /** The step that failed; the steps after it did not run. */
  failure?: ProvisionFailure;
  keys: KeyStatus[];
  changes: Change[];
}

const failureReasons: Record<ProvisionStep, string> = {
  DatabaseSynced: 'DatabaseError',
  BucketReady: 'BucketError',
  KeysReady: 'KeyError',
};

/**
 * Makes everything a tenant needs, in a fixed order: the tenant row (with its webhooks), the bucket, the
 * keys and the webhook signing secret (both delivered as Secrets: KeysReady). Each step is
 * idempotent, so running this again after any failure or crash converges. The operator and dev mode both
 * provision through here.
 */
export async function provisionTenant(deps: ProvisionDeps, tenant: DesiredTenant): Promise<ProvisionResult> {
  const result: ProvisionResult = { keys: [], changes: [] };
  const steps: Record<ProvisionStep, () => Promise<Change[]>> = {
    DatabaseSynced: () => ensureTenantRow(deps.pool, tenant),
    BucketReady: () =>
      ensureTenantBucket(deps.store, tenant.storageBucket, {
        'stowage.dev/tenant': tenant.id,
        'stowage.dev/owner': tenant.owner,
      }),
    KeysReady: async () => {
      const ensured = await ensureKeys(deps.pool, tenant.vault, {
        tenantId: tenant.id,
        keys: tenant.spec.apiKeys,
        graceMs: deps.keyGraceMs,
      });
      result.keys = ensured.keys;
      const secret = await ensureWebhookSecret(deps.pool, tenant.webhookSecret, {
        id: tenant.id,
        webhooks: tenant.spec.webhooks,
      });
      return [...ensured.changes, ...secret];
    },
  };
  for (const step of provisionSteps) {
    try {
      result.changes.push(...(await steps[step]()));
    } catch (error) {
      const conflict = error instanceof TenantIdConflictError;
      result.failure = {
        step,
        reason: conflict ? 'TenantIdConflict' : failureReasons[step],
        message: error instanceof Error ? error.message : String(error),
        retry: !conflict,
      };
      break;
    }
  }
  return result;
}

/**
 * Undoes a tenant when its declaration goes away, if this declarer owns it: keys are always revoked and
 * removed from the vault; with `Delete` the bucket (objects first) and then the rows go too. The bucket
 * goes before the rows, so a crash in between is finished by the next run, which still finds the row.
 */
export async function cleanupTenant(
  deps: ProvisionDeps,
  tenant: Pick<DesiredTenant, 'id' | 'owner' | 'vault'> & { deletionPolicy: 'Retain' | 'Delete' },
): Promise<Change[]> {
  const row = await getTenant(deps.pool, tenant.id);
  if (row?.owner !== tenant.owner) return [];
  const changes = await cleanupKeys(deps.pool, tenant.vault, tenant.id);
  if (tenant.deletionPolicy === 'Retain') return changes;
  changes.push(...(await cleanupTenantBucket(deps.store, row.storageBucket)));
  changes.push(...(await cleanupTenantRow(deps.pool, tenant.id, tenant.owner)));
  return changes;
}
