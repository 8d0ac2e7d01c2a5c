import {
  fileNotFound,
  updateFile,
  withTransaction,
  type FileChanges,
  type FileOwner,
  type FileRecord,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { ApiDeps } from '../deps.ts';

/**
 * Changes a stored file's name, tags, metadata or visibility; 404 FILE_NOT_FOUND if the owner has no
 * such file (none of its key's mode, or expired). The row is forgotten by this process's cache at once
 * and by the other replicas' when the database tells them (RowCache), so a file made private is refused
 * from the next request here and within the cache's bound everywhere. The audit entry names the fields
 * changed, not their values.
 */
export async function editFile(
  deps: Pick<ApiDeps, 'pool' | 'cache'>,
  owner: FileOwner,
  bucket: string,
  key: string,
  changes: FileChanges,
  audit: AuditContext,
): Promise<FileRecord> {
  const file = await withTransaction(deps.pool, async (client) => {
    const updated = await updateFile(client, owner, bucket, key, changes);
    const changed = Object.entries(changes).flatMap(([field, value]) => (value === undefined ? [] : [field]));
    if (updated) await audit.record(client, { bucket, key, details: { changed } });
    return updated;
  });
  if (!file) throw fileNotFound();
  deps.cache.forgetFiles([file.id]);
  return file;
}
