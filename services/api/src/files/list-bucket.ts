import { bucketNotFound, listFiles, type FilePage } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** A page of a bucket's files, oldest first; 404 FILE_NOT_FOUND when the bucket does not exist. */
export async function listBucket(
  deps: Pick<ApiDeps, 'pool'>,
  tenantId: string,
  bucket: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<FilePage> {
  const found = await listFiles(deps.pool, tenantId, bucket, page);
  if (!found) throw bucketNotFound();
  return found;
}
