import { fileNotFound, getFile, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** A stored file of the tenant, or 404 FILE_NOT_FOUND. */
export async function findFile(
  deps: Pick<ApiDeps, 'pool'>,
  tenantId: string,
  bucket: string,
  key: string,
): Promise<FileRecord> {
  const file = await getFile(deps.pool, tenantId, bucket, key);
  if (!file) throw fileNotFound();
  return file;
}
