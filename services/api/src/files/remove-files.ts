import {
  deleteFileRecords,
  fileObjectKeys,
  getFilesByKey,
  withTransaction,
  type Tenant,
} from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Removes the files of a bucket that have these keys, each with every variant, and gives their bytes
 * back to the quota. Idempotent: keys of files already gone (or never there) are no error.
 *
 * The objects go first, in the store's batches, then every row in one transaction. If the store fails
 * partway, all the rows are still there and the same call can be retried; the other way round, rows
 * gone before a failure would leave objects that nothing refers to, stored and never counted.
 * (Deleting a bucket goes rows first because files may arrive in it meanwhile; a key names one file
 * for good, so none can arrive under these.)
 */
export async function removeFiles(
  deps: Pick<ApiDeps, 'pool' | 'store'>,
  tenant: Pick<Tenant, 'id' | 'storageBucket'>,
  bucket: string,
  keys: string[],
): Promise<void> {
  const files = await getFilesByKey(deps.pool, tenant.id, bucket, keys);
  if (files.length === 0) return;
  await deps.store.delete({
    bucket: tenant.storageBucket,
    keys: files.flatMap((file) => fileObjectKeys(bucket, file)),
  });
  await withTransaction(deps.pool, (client) =>
    deleteFileRecords(
      client,
      tenant.id,
      files.map((file) => file.id),
    ),
  );
}
