import { deleteBucketRecords, fileObjectKeys, withTransaction, type Tenant } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Deletes a bucket: every file in it, with its variants; resolves to how many files went. The rows go
 * first, in one transaction, and then exactly their objects: an upload that commits into the bucket
 * meanwhile keeps both its row and its object.
 */
export async function removeBucket(
  deps: Pick<ApiDeps, 'pool' | 'store'>,
  tenant: Pick<Tenant, 'id' | 'storageBucket'>,
  bucket: string,
): Promise<number> {
  const files = await withTransaction(deps.pool, (client) => deleteBucketRecords(client, tenant.id, bucket));
  // The store deletes in batches of what it takes at once.
  const keys = files.flatMap((file) => fileObjectKeys(bucket, file));
  await deps.store.delete({ bucket: tenant.storageBucket, keys });
  return files.length;
}
