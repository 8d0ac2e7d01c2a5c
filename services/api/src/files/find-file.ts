import { fileNotFound, getFile, type FileOwner, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** A stored file of the owner (its tenant's, in its mode, not expired), or 404 FILE_NOT_FOUND. */
export async function findFile(
  deps: Pick<ApiDeps, 'pool'>,
  owner: FileOwner,
  bucket: string,
  key: string,
): Promise<FileRecord> {
  const file = await getFile(deps.pool, owner, bucket, key);
  if (!file) throw fileNotFound();
  return file;
}
