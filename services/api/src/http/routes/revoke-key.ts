import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { revokeTenantKey } from '../../keys/revoke-tenant-key.ts';
import { defineRoute } from '../route.ts';
import { errorBody } from '../schemas.ts';

const revoked = z.object({
  success: z.literal(true),
  message: z.string(),
  id: z.uuid(),
  revokedAt: z.iso.datetime(),
});

/** DELETE /keys/:id — revokes a key minted through the API; idempotent. */
export function revokeKey(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'revokeKey',
    method: 'delete',
    path: '/keys/:id',
    tag: 'Keys',
    summary: 'Revoke an API key',
    description:
      'Idempotent: revoking a revoked key succeeds and answers when it was revoked. Every API replica ' +
      'refuses the key within 2 s (KEY_CACHE_TTL_MS). A key may revoke itself: that request still ' +
      'succeeds, the next ones do not. Keys declared in the StorageTenant are revoked by removing ' +
      'them from it (403 here).',
    access: { scope: 'admin', limit: 'delete' },
    params: z.object({
      id: z.uuid('an API key id is a UUID').meta({ description: 'The `id` that GET /keys lists' }),
    }),
    responses: {
      200: { description: 'The key is revoked', schema: revoked },
      403: { description: 'The key is declared in the StorageTenant', schema: errorBody },
      404: { description: 'No such key in this tenant', schema: errorBody },
    },
  }).handle(async ({ params: { id }, caller, audit }) => {
    const revokedAt = await revokeTenantKey(deps, caller.tenantId, id, audit);
    return {
      status: 200,
      body: { success: true, message: 'API key revoked', id, revokedAt: revokedAt.toISOString() },
    };
  });
}
