import { fileNotFound, updateFile, type FileChanges, type FileOwner, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Changes a stored file's name, tags, metadata or visibility; 404 FILE_NOT_FOUND if the owner has no
 * such file (none of its key's mode, or expired). Nothing in the API keeps a file's visibility between requests (serving reads the row each
 * time; the small-object cache holds bytes only), so a file made private is refused from the next one.
 */
export async function editFile(
  deps: Pick<ApiDeps, 'pool'>,
  owner: FileOwner,
  bucket: string,
  key: string,
  changes: FileChanges,
): Promise<FileRecord> {
  const file = await updateFile(deps.pool, owner, bucket, key, changes);
  if (!file) throw fileNotFound();
  return file;
}
