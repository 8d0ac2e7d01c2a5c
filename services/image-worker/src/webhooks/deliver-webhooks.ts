import type pg from 'pg';
import {
  claimWebhookDeliveries,
  every,
  recordWebhookAttempt,
  webhookBacklog,
  type AttemptOutcome,
  type ClaimedDelivery,
  type Config,
  type Logger,
  type WebhookMetrics,
} from '@stowage/core';
import { sendWebhook } from './send-webhook.ts';

export interface WebhookDeliveryDeps {
  pool: pg.Pool;
  logger: Logger;
  metrics: WebhookMetrics;
}

/** Deliveries one worker sends at once. */
const BATCH = 20;

/** The wait before attempt `attempt + 1`, after attempt `attempt` failed: it doubles each time. */
export const retryDelayMs = (settings: Config['webhooks'], attempt: number): number =>
  settings.retryBaseMs * 2 ** (attempt - 1);

async function deliver(
  deps: WebhookDeliveryDeps,
  settings: Config['webhooks'],
  claimed: ClaimedDelivery,
): Promise<void> {
  const startedAt = new Date();
  const started = process.hrtime.bigint();
  const sent = await sendWebhook(
    { id: claimed.id, url: claimed.url, body: claimed.body, secret: claimed.secret },
    settings,
  );
  const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  const next: AttemptOutcome['next'] = !sent.error
    ? { status: 'delivered' }
    : claimed.attempt >= settings.maxAttempts
      ? { status: 'failed' }
      : { status: 'pending', retryInMs: retryDelayMs(settings, claimed.attempt) };
  const result = next.status === 'pending' ? 'retry' : next.status;
  deps.metrics.deliveries.inc({ result });
  deps.metrics.duration.observe({ result }, durationMs / 1000);
  const fields = { deliveryId: claimed.id, type: claimed.type, attempt: claimed.attempt, result };
  if (sent.error) deps.logger.warn({ ...fields, err: sent.error }, 'webhook delivery failed');
  else deps.logger.info(fields, 'webhook delivered');
  const recorded = await recordWebhookAttempt(deps.pool, claimed, { startedAt, durationMs, ...sent, next });
  if (!recorded) deps.logger.warn(fields, 'webhook attempt outlived its claim; not recorded');
}

/**
 * Sends due webhook deliveries from the database outbox, every `pollMs`, until the returned function is
 * called (it waits for the attempts in hand). Claims are exclusive, so any number of workers may run
 * this at once; a worker that dies mid-attempt leaves its deliveries to be claimed again once their
 * claim lapses. Delivery is at least once: a receiver may see a message again after a crash, always
 * with the same `webhook-id`.
 */
export function startWebhookDelivery(
  deps: WebhookDeliveryDeps,
  settings: Config['webhooks'],
): () => Promise<void> {
  // Longer than any attempt can take, so a claim lapses only for a worker that is gone or stuck.
  const leaseMs = settings.timeoutMs * 3;
  return every(
    settings.pollMs,
    async () => {
      for (;;) {
        const claimed = await claimWebhookDeliveries(deps.pool, { limit: BATCH, leaseMs });
        await Promise.all(claimed.map((c) => deliver(deps, settings, c)));
        if (claimed.length < BATCH) break;
      }
      deps.metrics.backlog.set(await webhookBacklog(deps.pool));
    },
    (err) => deps.logger.warn({ err }, 'webhook delivery poll failed'),
  );
}
