import { setTimeout as sleep } from 'node:timers/promises';
import { every, markVariantJobsDispatched, pendingVariantJobs } from '@stowage/core';
import { giveUpVariants, processVariantJob, type VariantJobDeps } from '../jobs/process-variant-job.ts';
import { UnusableImageError } from '../variants/make-variants.ts';

const ATTEMPTS = 3;

/**
 * The embedded mode's variant queue: no Redis, jobs run in this process one at a time, straight from the
 * outbox, with a few retries (unusable images fail at once). Returns a stop function that waits for the job in hand.
 */
export function startInProcessVariants(deps: VariantJobDeps, pollMs = 250): () => Promise<void> {
  const runOne = async (fileId: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await processVariantJob(deps, fileId);
        return;
      } catch (err) {
        if (err instanceof UnusableImageError || attempt >= ATTEMPTS) {
          deps.logger.warn({ fileId, err: (err as Error).message }, 'variants failed');
          await giveUpVariants(deps, fileId, (err as Error).message);
          return;
        }
        await sleep(500 * 2 ** attempt);
      }
    }
  };
  // A job stays in the outbox until it has run, so a restart picks up whatever was in hand.
  const step = async () => {
    for (const job of await pendingVariantJobs(deps.pool, 20)) {
      await runOne(job.fileId);
      await markVariantJobsDispatched(deps.pool, [job.id]);
    }
  };
  return every(pollMs, step, (err) => deps.logger.warn({ err }, 'variant outbox poll failed'));
}
