import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import type pg from 'pg';
import {
  AppError,
  getVariantSource,
  markVariantsFailed,
  objectKeyOf,
  recordVariants,
  releaseReservation,
  reserveQuota,
  settleReservation,
  variantFilename,
  variantObjectKeys,
  withTransaction,
  type Logger,
  type ObjectStore,
  type WorkerMetrics,
} from '@stowage/core';
import { makeVariants, UnusableImageError, type VariantLimits } from '../variants/make-variants.ts';

export interface VariantJobDeps {
  pool: pg.Pool;
  store: ObjectStore;
  logger: Logger;
  limits: VariantLimits & { maxInputBytes: number };
  /** Where the time of each phase goes; the embedded mode's in-process queue keeps none. */
  jobPhases?: WorkerMetrics['jobPhase'];
}

type JobPhase = 'fetch' | 'variants' | 'store' | 'record';

/** The file was deleted while its variants were being made. */
class FileGone extends Error {}

/**
 * Makes and stores the variants of one file. Idempotent: running it again rewrites the same three
 * objects and replaces the recorded sizes. Variant bytes count toward the quota of the file's mode
 * (live or test), reserved and settled like an upload. If the file is deleted meanwhile, the variants
 * written are removed again.
 * Throws UnusableImageError when no retry can help (not an image, too large, over quota).
 */
export async function processVariantJob(deps: VariantJobDeps, fileId: string): Promise<'done' | 'gone'> {
  const timed = async <T>(phase: JobPhase, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      deps.jobPhases?.observe({ phase }, (performance.now() - started) / 1000);
    }
  };
  const fetched = await timed('fetch', async () => {
    const source = await getVariantSource(deps.pool, fileId);
    if (!source) return undefined;
    if (source.size > deps.limits.maxInputBytes) {
      throw new UnusableImageError(
        `${source.size} bytes exceeds the input limit of ${deps.limits.maxInputBytes}`,
      );
    }
    const original = await deps.store.get({
      bucket: source.storageBucket,
      key: objectKeyOf(source.bucket, source.key),
    });
    return { source, bytes: await buffer(original.body) };
  });
  if (!fetched) return 'gone';
  const { source } = fetched;
  const variants = await timed('variants', () => makeVariants(fetched.bytes, deps.limits));
  const total = variants.reduce((sum, v) => sum + v.data.length, 0);
  const reservation = await timed('record', () =>
    reserveQuota(deps.pool, {
      tenantId: source.tenantId,
      mode: source.mode,
      bytes: total,
      objectKey: null,
      ttlMs: 60_000,
    }),
  ).catch((err: unknown) => {
    throw err instanceof AppError && err.code === 'QUOTA_EXCEEDED'
      ? new UnusableImageError('the tenant quota is full')
      : err;
  });
  const keys = variants.map((v) => objectKeyOf(source.bucket, variantFilename(fileId, v.name)));
  try {
    await timed('store', () =>
      Promise.all(
        variants.map((v, i) =>
          deps.store.put({
            bucket: source.storageBucket,
            key: keys[i]!,
            body: Readable.from([v.data]),
            contentType: 'image/webp',
          }),
        ),
      ),
    );
    await timed('record', () =>
      withTransaction(deps.pool, async (client) => {
        const sizes = variants.map((v) => ({
          name: v.name,
          size: v.data.length,
          width: v.width,
          height: v.height,
        }));
        // Settled first, for the lock order. If the reservation was swept as abandoned (this job stalled
        // past its lifetime), a retry redoes the job; if the file is gone, everything is rolled back.
        if (!(await settleReservation(client, reservation, total, 0)))
          throw new Error('quota reservation expired');
        if (!(await recordVariants(client, fileId, sizes))) throw new FileGone();
      }),
    );
    return 'done';
  } catch (err) {
    await releaseReservation(deps.pool, reservation.id);
    if (!(err instanceof FileGone)) throw err;
  }
  // Deleted while we worked: take back what we wrote.
  await deps.store.delete({ bucket: source.storageBucket, keys });
  return 'gone';
}

/**
 * Records that a file gets no variants (no retry can help, or none is left) and removes what a failed
 * attempt may have written: no row counts those objects, so nobody else would.
 */
export async function giveUpVariants(
  deps: Pick<VariantJobDeps, 'pool' | 'store'>,
  fileId: string,
  reason: string,
): Promise<void> {
  const file = await markVariantsFailed(deps.pool, fileId, reason);
  if (file)
    await deps.store.delete({ bucket: file.storageBucket, keys: variantObjectKeys(file.bucket, fileId) });
}
