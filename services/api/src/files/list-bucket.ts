import { bucketNotFound, listFiles, type FileFilters, type FilePage, type ListOrder } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * A page of a bucket's files that match the filters, in upload order; 404 FILE_NOT_FOUND when the
 * bucket does not exist.
 */
export async function listBucket(
  deps: Pick<ApiDeps, 'pool'>,
  tenantId: string,
  bucket: string,
  page: FileFilters & { limit: number; cursor?: string | undefined; order: ListOrder },
): Promise<FilePage> {
  const found = await listFiles(deps.pool, tenantId, bucket, page);
  if (!found) throw bucketNotFound();
  return found;
}
