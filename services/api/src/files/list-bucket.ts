import { listFiles, type FilePage } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** A page of a bucket's files, oldest first. */
export function listBucket(
  deps: Pick<ApiDeps, 'pool'>,
  tenantId: string,
  bucket: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<FilePage> {
  return listFiles(deps.pool, tenantId, bucket, page);
}
