import {
  deleteFileRecords,
  emitFileEvents,
  fileObjectKeys,
  listExpiredFiles,
  withTransaction,
  type ExpiredFile,
} from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/** Expired files looked up at once; a pass goes on until none is left. */
const BATCH = 100;

/**
 * Deletes one expired file (test files past TEST_FILE_TTL included): its objects, original and variants,
 * then its row, which gives its bytes back to the usage of its mode. The objects go first, so a failure
 * leaves the row to retry with. This is the one place where files expire, so the `file.expired` event
 * is written here, in the transaction that removes the row, and only if the row was still there
 * (another sweeper may have taken it).
 */
async function expireFile(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>,
  file: ExpiredFile,
): Promise<boolean> {
  await deps.store.delete({ bucket: file.storageBucket, keys: fileObjectKeys(file.bucket, file) });
  const deleted = await withTransaction(deps.pool, async (client) => {
    const gone = await deleteFileRecords(client, file, [file.id]);
    await emitFileEvents(client, 'file.expired', gone);
    return gone.length;
  });
  deps.cache.forgetFiles([file.id]);
  return deleted > 0;
}

/**
 * Deletes every file past its expiry, of every tenant. Until then each route already answers 404 for
 * them; this gives their storage and quota back. Safe on every replica at once. Resolves to how many
 * files this pass deleted.
 */
export async function expireFiles(deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>): Promise<number> {
  let expired = 0;
  for (;;) {
    const batch = await listExpiredFiles(deps.pool, BATCH);
    for (const file of batch) if (await expireFile(deps, file)) expired += 1;
    if (batch.length < BATCH) return expired;
  }
}
