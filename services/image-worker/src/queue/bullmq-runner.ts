import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { every, redispatchUnfinishedVariantJobs, type WorkerMetrics } from '@stowage/core';
import { giveUpVariants, processVariantJob, type VariantJobDeps } from '../jobs/process-variant-job.ts';
import { UnusableImageError } from '../variants/make-variants.ts';
import { dispatchOutbox } from './outbox.ts';

const QUEUE_NAME = 'variants';
const ATTEMPTS = 5;

export interface QueueOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  lockMs: number;
}

interface JobData {
  fileId: string;
}

/**
 * The image worker on a BullMQ queue in Redis. Every worker also feeds the queue from the database
 * outbox (claims are exclusive, so several workers can). A job is retried with exponential backoff and
 * given up on after ATTEMPTS, or at once for unusable images; then the file's variants are `failed`.
 * A worker that dies stops renewing its job locks, and BullMQ hands those jobs to another worker.
 * Returns a stop function: it stops taking jobs and lets those in hand finish.
 */
export function startQueueWorker(deps: VariantJobDeps & { metrics: WorkerMetrics }, options: QueueOptions) {
  // BullMQ's blocking commands need connections that never give up on a request.
  const connect = () => new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const queueConnection = connect();
  // Redis may have come back empty since the jobs were dispatched to it (while this worker was
  // connected, or before it started): on every connection they are offered again.
  let redispatch = false;
  queueConnection.on('ready', () => (redispatch = true));
  const queue = new Queue<JobData>(QUEUE_NAME, {
    connection: queueConnection,
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  });
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    async (job) => {
      const started = process.hrtime.bigint();
      deps.metrics.inFlight.inc();
      deps.metrics.jobPhase.observe(
        { phase: 'queued' },
        Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000,
      );
      deps.logger.info({ fileId: job.data.fileId, attempt: job.attemptsMade + 1 }, 'variant job started');
      let result = 'error';
      try {
        result = await processVariantJob({ ...deps, jobPhases: deps.metrics.jobPhase }, job.data.fileId);
        deps.logger.info({ fileId: job.data.fileId, result }, 'variant job finished');
      } catch (err) {
        if (err instanceof UnusableImageError) throw new UnrecoverableError(err.message);
        throw err;
      } finally {
        deps.metrics.inFlight.dec();
        deps.metrics.jobDuration.observe({ result }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
    {
      connection: connect(),
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(1000, Math.floor(options.lockMs / 2)),
    },
  );
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    deps.logger.warn(
      { fileId: job.data.fileId, attempt: job.attemptsMade, final, err: err.message },
      'variant job failed',
    );
    if (!final) return;
    deps.metrics.failures.inc();
    giveUpVariants(deps, job.data.fileId, err.message).catch((e: unknown) =>
      deps.logger.error({ err: e }, 'could not record failed variants'),
    );
  });
  worker.on('error', (err) => deps.logger.warn({ err }, 'variant worker error'));

  const stopDispatch = every(
    500,
    async () => {
      if (redispatch) {
        const again = await redispatchUnfinishedVariantJobs(deps.pool);
        redispatch = false;
        if (again) deps.logger.info({ jobs: again }, 'Redis reconnected: variant jobs offered again');
      }
      await dispatchOutbox(deps.pool, async (fileIds) => {
        await queue.addBulk(
          fileIds.map((fileId) => ({ name: 'make', data: { fileId }, opts: { jobId: fileId } })),
        );
      });
    },
    (err) => deps.logger.warn({ err }, 'variant outbox dispatch failed'),
  );
  const stopGauges = every(
    2000,
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const [state, n] of Object.entries(counts)) deps.metrics.queueDepth.set({ state }, n);
    },
    () => {},
  );
  return async () => {
    await Promise.all([stopDispatch(), stopGauges()]);
    await worker.close();
    await queue.close();
  };
}
