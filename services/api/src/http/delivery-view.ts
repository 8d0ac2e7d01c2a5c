import type { WebhookDelivery } from '@stowage/core';
import type { z } from 'zod';
import type { webhookDeliveryView } from './schemas.ts';

/** A webhook delivery as the API shows it. */
export const deliveryView = (d: WebhookDelivery): z.input<typeof webhookDeliveryView> => ({
  id: d.id,
  webhook: d.webhook,
  url: d.url,
  type: d.type,
  mode: d.mode,
  status: d.status,
  payload: d.payload as z.input<typeof webhookDeliveryView>['payload'],
  createdAt: d.createdAt.toISOString(),
  nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  attempts: d.attempts.map((a) => ({
    attempt: a.attempt,
    startedAt: a.startedAt.toISOString(),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    error: a.error,
  })),
});
