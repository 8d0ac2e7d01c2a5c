import { deleteFileRecord, fileObjectKeys, getFile, withTransaction, type Tenant } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Removes a file: its original and every variant. Idempotent: a file that is already gone is no error.
 * The objects go first, so a failure leaves the row to retry with.
 */
export async function removeFile(
  deps: Pick<ApiDeps, 'pool' | 'store'>,
  tenant: Pick<Tenant, 'id' | 'storageBucket'>,
  bucket: string,
  key: string,
): Promise<void> {
  const file = await getFile(deps.pool, tenant.id, bucket, key);
  if (!file) return;
  await deps.store.delete({ bucket: tenant.storageBucket, keys: fileObjectKeys(bucket, file) });
  await withTransaction(deps.pool, (client) => deleteFileRecord(client, tenant.id, file.id));
}
