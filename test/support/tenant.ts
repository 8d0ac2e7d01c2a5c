import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import {
  applyTenant,
  generateApiKey,
  getUsage,
  registerKey,
  storageTenantSpec,
  type ObjectStore,
} from '@stowage/core';
import { eventually } from './poll.ts';

/**
 * A tenant straight in the database, the way the operator would make it, with its store bucket; resolves
 * to the raw value of one declared live key holding every scope.
 */
export async function provisionTenant(
  pool: pg.Pool,
  store: ObjectStore,
  tenant: { id: string; owner: string; storageBucket: string; spec?: Record<string, unknown> },
): Promise<string> {
  const { id, owner, storageBucket, spec = {} } = tenant;
  const applied = await applyTenant(pool, { id, owner, storageBucket, spec: storageTenantSpec.parse(spec) });
  if (applied.outcome === 'conflict') throw new Error(`tenant id ${id} is taken`);
  await store.ensureBucket(storageBucket);
  // Registered as the operator registers a declared key, so no request through the API can revoke it.
  const { raw } = generateApiKey('live');
  await registerKey(pool, {
    id: randomUUID(),
    raw,
    source: 'resource',
    tenantId: id,
    name: 'every-scope',
    scopes: ['read', 'write', 'admin'],
    mode: 'live',
  });
  return raw;
}

/** Resolves once an upload of the tenant is demonstrably in flight: quota is reserved for its bytes. */
export function uploadReserving(pool: pg.Pool, tenantId: string): Promise<true> {
  return eventually(async () => {
    const usage = await getUsage(pool, tenantId);
    return usage && usage.reservedBytes > 0 ? true : undefined;
  }, 'the upload to reserve quota');
}
