import type { WebhookDelivery } from '@stowage/sdk/node';
import { connect } from '../connection.ts';
import type { Context } from '../context.ts';

export interface DeliveriesFlags {
  status?: 'pending' | 'delivered' | 'failed';
  cursor?: string;
  limit?: number;
}

/** `stw webhooks deliveries`: a page of webhook deliveries, newest first, with their last attempt. */
export async function listDeliveries(flags: DeliveriesFlags, { settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.listWebhookDeliveries(flags);
  output.document(result);
  for (const delivery of result.deliveries) output.line(deliveryRow(delivery));
  if (result.nextCursor) output.line(`more: --cursor ${result.nextCursor}`);
}

/** `stw webhooks retry <id>`: sends a delivery once more. */
export async function retryDelivery(id: string, { settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.retryWebhookDelivery(id);
  output.document(result);
  output.line(`queued ${result.delivery.id} (${result.delivery.type} to ${result.delivery.webhook})`);
}

const deliveryRow = (d: WebhookDelivery) => {
  const last = d.attempts.at(-1);
  const outcome = last ? (last.error ?? `answered ${last.statusCode}`) : 'not tried yet';
  return [
    d.id,
    d.status.padEnd(9),
    d.type.padEnd(15),
    d.webhook,
    `${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}:`,
    outcome,
  ].join('  ');
};
