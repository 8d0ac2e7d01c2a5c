import type pg from 'pg';
import { applyTenant, deleteTenant, type ApplyTenantInput } from '@stowage/core';
import type { Change } from './change.ts';

/** Thrown when the tenant id is already declared by someone else. */
export class TenantIdConflictError extends Error {
  override name = 'TenantIdConflictError';
  constructor(id: string, owner: string) {
    super(`tenant id ${id} is already claimed by ${owner}`);
  }
}

/** The tenant row with its quota, rate limits, origins and declared buckets. */
export async function ensureTenantRow(pool: pg.Pool, input: ApplyTenantInput): Promise<Change[]> {
  const applied = await applyTenant(pool, input);
  if (applied.outcome === 'conflict') throw new TenantIdConflictError(input.id, applied.owner);
  return applied.outcome === 'created'
    ? [{ reason: 'TenantCreated', message: `tenant ${input.id} created` }]
    : [];
}

/** Removes the tenant's rows (files, buckets, keys, usage), if `owner` declared it. */
export async function cleanupTenantRow(pool: pg.Pool, id: string, owner: string): Promise<Change[]> {
  await deleteTenant(pool, id, owner);
  return [{ reason: 'TenantDeleted', message: `tenant ${id} and its records deleted` }];
}
