import {
  LONGEST_UPLOAD_MS,
  deleteAuditEntriesBefore,
  deleteWebhookDeliveriesBefore,
  discardWrite,
  every,
  listStorageBuckets,
  releaseExpiredReservations,
  withTransaction,
} from '@stowage/core';
import type { ApiDeps } from '../deps.ts';
import { expireFiles } from '../files/expire-files.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One pass of clean-up: deletes files past their expiry (test files after TEST_FILE_TTL), audit entries
 * past AUDIT_RETENTION_DAYS and finished webhook deliveries past WEBHOOK_DELIVERY_RETENTION_DAYS and,
 * after crashed writers, releases reservations nobody renews any more, removes the objects they were
 * writing, and aborts store uploads left unfinished. Safe to run on every replica at once: expired
 * reservations are claimed with SKIP LOCKED, and the rest is idempotent. Resolves to how many files,
 * reservations, uploads, audit entries and webhook deliveries it cleaned.
 */
export async function sweepOnce(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'cache'>): Promise<{
  expired: number;
  reservations: number;
  uploads: number;
  auditEntries: number;
  webhookDeliveries: number;
}> {
  const files = await expireFiles(deps);
  const released = await withTransaction(deps.pool, (client) =>
    releaseExpiredReservations(client, async (expired) => {
      for (const r of expired) {
        if (r.objectKey !== null) await discardWrite(deps.store, r.storageBucket, r.objectKey);
      }
    }),
  );
  let uploads = 0;
  // Store uploads older than any writer keeps one are aborted whatever they are; those of a writer known
  // to be dead went above, sooner, with its reservation.
  for (const bucket of await listStorageBuckets(deps.pool)) {
    uploads += await deps.store.abortStaleUploads({
      bucket,
      olderThan: new Date(Date.now() - LONGEST_UPLOAD_MS),
    });
  }
  const auditEntries = await deleteAuditEntriesBefore(
    deps.pool,
    new Date(Date.now() - deps.config.auditRetentionDays * DAY_MS),
  );
  const webhookDeliveries = await deleteWebhookDeliveriesBefore(
    deps.pool,
    new Date(Date.now() - deps.config.webhookDeliveryRetentionDays * DAY_MS),
  );
  return { expired: files, reservations: released.length, uploads, auditEntries, webhookDeliveries };
}

/** Runs sweepOnce every `intervalMs` (SWEEP_INTERVAL_SECONDS) until stopped; failures are logged and retried next time. */
export function startSweeper(deps: ApiDeps, intervalMs: number): () => Promise<void> {
  return every(
    intervalMs,
    async () => {
      const swept = await sweepOnce(deps);
      if (Object.values(swept).some((n) => n > 0))
        deps.logger.info(swept, 'swept expired files, abandoned uploads, old audit entries and deliveries');
    },
    (err) => deps.logger.warn({ err }, 'sweep failed'),
  );
}
