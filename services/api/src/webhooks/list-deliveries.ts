import { listWebhookDeliveries, type DeliveryStatus, type FileOwner } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * A page of the webhook deliveries of the caller's tenant and key mode (events about test files go to the
 * same webhooks, and only test keys see them here), newest first, each with every attempt so far.
 */
export function listDeliveries(
  deps: Pick<ApiDeps, 'pool'>,
  caller: FileOwner,
  options: { status?: DeliveryStatus | undefined; cursor?: string | undefined; limit: number },
) {
  return listWebhookDeliveries(deps.pool, caller, options);
}
