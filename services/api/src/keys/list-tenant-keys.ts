import { listActiveKeys, type KeyRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** The tenant's keys that are not revoked, declared and minted, oldest first. */
export function listTenantKeys(deps: Pick<ApiDeps, 'pool'>, tenantId: string): Promise<KeyRecord[]> {
  return listActiveKeys(deps.pool, tenantId);
}
