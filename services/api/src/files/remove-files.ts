import {
  deleteFileRecords,
  emitFileEvents,
  fileObjectKeys,
  variantObjectKeys,
  getFilesByKey,
  withTransaction,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * Removes the caller's files (of its key's mode) in a bucket that have these keys, each with every
 * variant, and gives their bytes back to the quota of that mode; a `file.deleted` event for each file
 * whose row this call removed, in the transaction that removes it. Idempotent: keys of files already gone
 * (or never there, or of the other mode) are no error. The audit entry, in the rows' transaction, lists
 * the keys of the files removed (a call that removes nothing is logged by the route layer).
 *
 * The objects go first, in the store's batches, then every row in one transaction. If the store fails
 * partway, all the rows are still there and the same call can be retried; the other way round, rows
 * gone before a failure would leave objects that nothing refers to, stored and never counted.
 * (Deleting a bucket goes rows first because files may arrive in it meanwhile; a key names one file
 * for good, so none can arrive under these.)
 */
export async function removeFiles(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>,
  caller: Pick<Caller, 'tenantId' | 'mode' | 'tenant'>,
  bucket: string,
  keys: string[],
  audit: AuditContext,
): Promise<void> {
  const files = await getFilesByKey(deps.pool, caller, bucket, keys);
  if (files.length === 0) return;
  await deps.store.delete({
    bucket: caller.tenant.storageBucket,
    keys: files.flatMap((file) => fileObjectKeys(bucket, file)),
  });
  await withTransaction(deps.pool, async (client) => {
    const gone = await deleteFileRecords(
      client,
      caller,
      files.map((file) => file.id),
    );
    await audit.record(client, {
      bucket,
      key: keys.length === 1 ? keys[0] : undefined,
      details: { deleted: gone.map((file) => file.key) },
    });
    await emitFileEvents(client, 'file.deleted', gone);
  });
  // A worker may have written and recorded variants after the objects above went and before the rows
  // did. With the rows gone no worker can record any more (it removes what it wrote instead), so one more
  // pass over the variant keys leaves none behind.
  await deps.store.delete({
    bucket: caller.tenant.storageBucket,
    keys: files.flatMap((file) => variantObjectKeys(bucket, file.id)),
  });
  deps.cache.forgetFiles(files.map((file) => file.id));
}
