import type pg from 'pg';
import { insertFile, serviceUnavailable, withTransaction, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';
import { hasVariants } from './sniff.ts';

/** The quota reserved for a stored file's bytes until it is recorded. */
export interface HeldQuota {
  /**
   * Turns the reservation into `size` used bytes and one more file, inside the recording transaction.
   * False if the reservation is gone: the sweeper took the upload for abandoned.
   */
  settle(client: pg.PoolClient, size: number): Promise<boolean>;
}

/** A file whose bytes are in the store, with the quota that holds them: everything but its row. */
export interface StoredFile {
  /** The file's id, the UUID its key starts with. */
  id: string;
  tenantId: string;
  bucket: string;
  /** `<id>.<ext>` */
  key: string;
  size: number;
  /** Read from the bytes. */
  mimetype: string;
  originalName: string;
  allowPublicAccess: boolean;
  quota: HeldQuota;
}

/**
 * Records a stored file, however it was uploaded: settles its quota and inserts its row (and, for
 * images, its variant job) in one transaction, so that either both happen or neither. A caller whose
 * recording fails still owns the stored bytes and must discard them.
 */
export async function recordFile(
  deps: Pick<ApiDeps, 'pool' | 'config' | 'metrics'>,
  stored: StoredFile,
): Promise<FileRecord> {
  const recorded = await withTransaction(deps.pool, async (client) => {
    if (!(await stored.quota.settle(client, stored.size))) return undefined;
    return insertFile(client, {
      id: stored.id,
      tenantId: stored.tenantId,
      bucket: stored.bucket,
      key: stored.key,
      originalName: stored.originalName,
      mimetype: stored.mimetype,
      size: stored.size,
      etag: `"${stored.id}"`,
      allowPublicAccess: stored.allowPublicAccess,
      variantStatus: hasVariants(stored.mimetype, deps.config.variants.rasteriseSvg) ? 'pending' : 'none',
    });
  });
  // Only a process stalled past the reservation's lifetime gets here; the upload can be sent again.
  if (!recorded) throw serviceUnavailable('The upload took too long to record; please send it again', 1);
  deps.metrics.bytesUploaded.inc(recorded.size);
  return recorded;
}
