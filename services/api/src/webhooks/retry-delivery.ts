import { deliveryNotFound, retryWebhookDelivery, type FileOwner, type WebhookDelivery } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Sends a delivery of the caller's tenant and mode once more, soon (the next poll of a worker), whatever
 * became of it; 404 if there is no such delivery.
 */
export async function retryDelivery(
  deps: Pick<ApiDeps, 'pool'>,
  caller: FileOwner,
  id: string,
): Promise<WebhookDelivery> {
  const delivery = await retryWebhookDelivery(deps.pool, caller, id);
  if (!delivery) throw deliveryNotFound();
  return delivery;
}
