import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { retryDelivery } from '../../webhooks/retry-delivery.ts';
import { deliveryView } from '../delivery-view.ts';
import { defineRoute } from '../route.ts';
import { errorBody, webhookDeliveryView } from '../schemas.ts';

const retried = z.object({ success: z.literal(true), delivery: webhookDeliveryView });

/** POST /webhooks/deliveries/:id/retry — sends a delivery once more. */
export function retryWebhookDelivery(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'retryWebhookDelivery',
    method: 'post',
    path: '/webhooks/deliveries/:id/retry',
    tag: 'Webhooks',
    summary: 'Send a webhook delivery once more',
    description:
      'Delivered, failed or still pending, the delivery becomes `pending` and due now: a worker sends it ' +
      'within a second or so, with the same `webhook-id`, signed with the current secret. The answer ' +
      'shows it as queued; GET /webhooks/deliveries shows the attempt once made.',
    access: { scope: 'admin', limit: 'list' },
    params: z.object({
      id: z.uuid('a delivery id is a UUID').meta({ description: 'The `id` GET /webhooks/deliveries lists' }),
    }),
    responses: {
      202: { description: 'The delivery is queued', schema: retried },
      404: { description: 'No such delivery for this tenant and key mode', schema: errorBody },
    },
  }).handle(async ({ params: { id }, caller }) => {
    const delivery = await retryDelivery(deps, caller, id);
    return { status: 202, body: { success: true, delivery: deliveryView(delivery) } };
  });
}
