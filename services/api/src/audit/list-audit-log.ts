import { listAuditEntries, type AuditPage, type KeyMode } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * A page of the tenant's audit log, newest first, of the reader's key mode only: a test key sees what
 * test keys did, a live key what live keys did. Refusals that no tenant could be told from (an unknown
 * key) are in no tenant's log.
 */
export function listAuditLog(
  deps: Pick<ApiDeps, 'pool'>,
  reader: { tenantId: string; mode: KeyMode },
  page: { since?: Date | undefined; action?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<AuditPage> {
  return listAuditEntries(deps.pool, reader, page);
}
