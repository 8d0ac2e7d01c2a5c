import { z } from 'zod';
import { KEY_NAME, ORIGIN, scopes } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { mintTenantKey } from '../../keys/mint-tenant-key.ts';
import { keyView } from '../key-view.ts';
import { defineRoute } from '../route.ts';
import { apiKeyView, errorBody } from '../schemas.ts';

const body = z.object({
  name: z
    .string()
    .regex(KEY_NAME, 'use 1-63 lowercase letters, digits and "-", starting and ending with a letter or digit')
    .meta({ description: 'Unique among the active keys of the tenant, declared ones included' }),
  scopes: z
    .array(z.enum(scopes))
    .min(1, 'name at least one scope')
    // One order and no repeats, whatever the client sent.
    .transform((given) => scopes.filter((scope) => given.includes(scope)))
    .meta({ description: 'read < write < admin: each scope includes the ones below it' }),
  mode: z.enum(['live', 'test']),
  allowedOrigins: z
    .array(z.string().regex(ORIGIN, 'an origin is scheme://host[:port] with no path'))
    .optional()
    .meta({ description: "Origins browsers may use the key from (empty: any); absent: the tenant's apply" }),
  expiresAt: z.iso
    .datetime({ offset: true, error: 'an ISO 8601 date and time, e.g. 2030-01-01T00:00:00Z' })
    .transform((value) => new Date(value))
    .refine((date) => date.getTime() > Date.now(), 'must be in the future')
    .optional()
    .meta({ description: 'When the key stops working; absent: never' }),
});

const created = z.object({
  success: z.literal(true),
  key: apiKeyView,
  apiKey: z.string().meta({ description: 'The key itself. It is shown this once and cannot be recovered.' }),
});

/** POST /keys — mints a key for the caller's tenant and answers with it, once. */
export function createKey(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'createKey',
    method: 'post',
    path: '/keys',
    tag: 'Keys',
    summary: 'Mint an API key; the answer carries the key itself, once',
    description:
      'A key cannot mint a key that can do more than itself: a test key mints only test keys, and a key ' +
      'with an expiry only keys that expire no later. Only a SHA-256 hash of the key is stored.',
    access: { scope: 'admin', limit: 'upload' },
    body: { json: body },
    responses: {
      201: { description: 'The key, with its secret', schema: created },
      400: { description: 'Invalid input, or the name is taken', schema: errorBody },
      403: { description: 'The calling key may not mint such a key', schema: errorBody },
    },
  }).handle(async ({ body: request, caller, audit }) => {
    const key = await mintTenantKey(deps, caller, request, audit);
    return { status: 201, body: { success: true, key: keyView(key), apiKey: key.raw } };
  });
}
