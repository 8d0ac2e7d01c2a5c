import { fileNotFound, type FileOwner, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** A stored file of the owner (its tenant's, in its mode, not expired), or 404 FILE_NOT_FOUND. */
export async function findFile(
  deps: Pick<ApiDeps, 'cache'>,
  owner: FileOwner,
  bucket: string,
  key: string,
): Promise<FileRecord> {
  // A key is `<id>.<ext>` (the route checks its shape), so the row is found by its id.
  const file = await deps.cache.file(owner.tenantId, bucket, key.slice(0, 36));
  if (!file || file.key !== key || file.mode !== owner.mode) throw fileNotFound();
  return file;
}
