import type pg from 'pg';
import { claimVariantJobs, markVariantJobsDispatched, withTransaction } from '@stowage/core';

/**
 * Moves variant jobs from the database outbox to a queue: claims a batch, hands it to `enqueue`, and marks
 * it dispatched in the same transaction. If enqueueing fails nothing is marked and the jobs are tried
 * again; if the commit fails after enqueueing they are enqueued twice, which idempotent jobs (and
 * BullMQ's job ids) absorb. Resolves to how many jobs moved.
 */
export function dispatchOutbox(
  pool: pg.Pool,
  enqueue: (fileIds: string[]) => Promise<void>,
  batch = 100,
): Promise<number> {
  return withTransaction(pool, async (client) => {
    const jobs = await claimVariantJobs(client, batch);
    if (jobs.length === 0) return 0;
    await enqueue(jobs.map((j) => j.fileId));
    await markVariantJobsDispatched(
      client,
      jobs.map((j) => j.id),
    );
    return jobs.length;
  });
}
