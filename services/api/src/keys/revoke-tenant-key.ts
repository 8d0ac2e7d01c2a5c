import { forbidden, getTenantKey, keyNotFound, revokeKey, withTransaction } from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * Revokes a key minted through the API; resolves to when it was revoked (the first time, for a key
 * revoked already: idempotent). Every API process stops accepting it within its key cache's lifetime.
 * A key of another tenant, or none at all, is 404; a key the StorageTenant declares is 403, because the
 * operator would only mint it again: it is revoked by removing it from the spec.
 */
export async function revokeTenantKey(
  deps: Pick<ApiDeps, 'pool'>,
  tenantId: string,
  id: string,
  audit: AuditContext,
): Promise<Date> {
  const key = await getTenantKey(deps.pool, tenantId, id);
  if (!key) throw keyNotFound();
  if (key.source === 'resource') {
    throw forbidden(
      `API key ${key.name} is declared in the tenant's StorageTenant, which owns it`,
      `Remove it from spec.apiKeys of the StorageTenant (or bump its rotation to replace it); the operator then revokes it.`,
    );
  }
  const revokedAt = await withTransaction(deps.pool, async (client) => {
    const at = await revokeKey(client, id);
    if (at) await audit.record(client, { details: { id, name: key.name, prefix: key.prefix } });
    return at;
  });
  // Gone in between: its tenant was deleted.
  if (!revokedAt) throw keyNotFound();
  return revokedAt;
}
