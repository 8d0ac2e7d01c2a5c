import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { listTenantKeys } from '../../keys/list-tenant-keys.ts';
import { keyView } from '../key-view.ts';
import { defineRoute } from '../route.ts';
import { apiKeyView } from '../schemas.ts';

const listing = z.object({ success: z.literal(true), keys: z.array(apiKeyView) });

/** GET /keys — the tenant's keys, declared and minted, never their secrets. */
export function listKeys(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'listKeys',
    method: 'get',
    path: '/keys',
    tag: 'Keys',
    summary: "The tenant's API keys, oldest first, without their secrets",
    description: 'Revoked keys are not listed; expired ones are, until they are revoked.',
    access: { scope: 'read', limit: 'list' },
    responses: { 200: { description: 'The keys', schema: listing } },
  }).handle(async ({ caller }) => {
    const keys = await listTenantKeys(deps, caller.tenantId);
    return { status: 200, body: { success: true, keys: keys.map(keyView) } };
  });
}
