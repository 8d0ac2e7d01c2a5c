import { z } from 'zod';
import { DELIVERY_STATUSES } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { listDeliveries } from '../../webhooks/list-deliveries.ts';
import { deliveryView } from '../delivery-view.ts';
import { defineRoute } from '../route.ts';
import { errorBody, pageLimit, webhookDeliveryView } from '../schemas.ts';

const query = z.object({
  status: z
    .enum(DELIVERY_STATUSES, { error: 'use pending, delivered or failed' })
    .optional()
    .meta({ description: 'Only deliveries in this state' }),
  cursor: z
    .string()
    .max(512)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page (with the same status)' }),
  limit: pageLimit('Deliveries', 100, 50),
});

const page = z.object({
  success: z.literal(true),
  deliveries: z.array(webhookDeliveryView),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

/** GET /webhooks/deliveries — the tenant's webhook deliveries, newest first, with their attempts. */
export function listWebhookDeliveries(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'listWebhookDeliveries',
    method: 'get',
    path: '/webhooks/deliveries',
    tag: 'Webhooks',
    summary: "A page of the tenant's webhook deliveries, newest first, each with its attempts",
    description:
      "Deliveries of events of the key's mode only: a test key sees those about test files, a live key " +
      'the others. A delivery is one event for one webhook; it is `pending` until a 2xx answer ' +
      '(`delivered`) or its last attempt (`failed`, about a day after the first). Finished deliveries ' +
      'are kept WEBHOOK_DELIVERY_RETENTION_DAYS (30 by default) after their event.',
    access: { scope: 'admin', limit: 'list' },
    query,
    responses: {
      200: { description: 'A page of deliveries', schema: page },
      400: { description: 'An invalid status, limit or cursor', schema: errorBody },
    },
  }).handle(async ({ query, caller }) => {
    const found = await listDeliveries(deps, caller, query);
    return {
      status: 200,
      body: {
        success: true,
        deliveries: found.deliveries.map(deliveryView),
        nextCursor: found.nextCursor,
        hasMore: found.nextCursor !== null,
      },
    };
  });
}
