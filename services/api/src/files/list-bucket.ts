import {
  bucketNotFound,
  listFiles,
  type FileFilters,
  type FileOwner,
  type FilePage,
  type ListOrder,
} from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * A page of a bucket's files of the owner's mode that match the filters, in upload order, without expired
 * ones; 404 FILE_NOT_FOUND when the bucket does not exist. Buckets are the tenant's, whatever mode made
 * them.
 */
export async function listBucket(
  deps: Pick<ApiDeps, 'pool'>,
  owner: FileOwner,
  bucket: string,
  page: FileFilters & { limit: number; cursor?: string | undefined; order: ListOrder },
): Promise<FilePage> {
  const found = await listFiles(deps.pool, owner.tenantId, bucket, { ...page, mode: owner.mode });
  if (!found) throw bucketNotFound();
  return found;
}
