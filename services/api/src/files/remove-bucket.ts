import {
  bucketNotFound,
  deleteBucketRecords,
  emitWebhookEvent,
  fileObjectKeys,
  withTransaction,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * Deletes a bucket: every file in it of the caller's mode, with its variants; resolves to how many files
 * went. A bucket that does not exist (never declared nor uploaded into, or deleted) is 404 FILE_NOT_FOUND.
 *
 * Buckets are the tenant's, files are a mode's: a live key deletes the live files and a test key the
 * test files, neither touches the other's. The bucket itself goes with the last of its files, so a bucket
 * that still holds files of the other mode stays (for both modes, with an empty listing for this one).
 *
 * A bucket the StorageTenant declares is emptied but stays: it keeps its declared settings and still
 * exists afterwards (an empty listing; deleting it again deletes 0 files). The declaration belongs to
 * whoever owns the StorageTenant, not to an API key, and the operator's next reconcile would bring the
 * bucket back anyway. Dropped from the spec, it becomes an ordinary bucket that deleting ends.
 *
 * The rows go first, in one transaction with the `bucket.deleted` event, and then exactly their objects:
 * an upload that commits into the bucket meanwhile keeps both its row and its object.
 */
export async function removeBucket(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>,
  caller: Pick<Caller, 'tenantId' | 'mode' | 'tenant'>,
  bucket: string,
  audit: AuditContext,
): Promise<number> {
  const files = await withTransaction(deps.pool, async (client) => {
    const gone = await deleteBucketRecords(client, caller, bucket);
    if (gone) {
      await audit.record(client, { bucket, details: { filesDeleted: gone.length } });
      await emitWebhookEvent(client, {
        tenantId: caller.tenantId,
        mode: caller.mode,
        type: 'bucket.deleted',
        data: { tenantId: caller.tenantId, bucket, filesDeleted: gone.length },
      });
    }
    return gone;
  });
  if (!files) throw bucketNotFound();
  deps.cache.forgetFiles(files.map((file) => file.id));
  // The store deletes in batches of what it takes at once.
  const keys = files.flatMap((file) => fileObjectKeys(bucket, file));
  await deps.store.delete({ bucket: caller.tenant.storageBucket, keys });
  return files.length;
}
