import type { Request, Response } from 'express';
import { deleteFileRecord, fileObjectKeys, getFile, withTransaction } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { jsonBody } from '../json-body.ts';
import { bucketName, fileKey } from '../names.ts';

/**
 * POST /files/delete `{bucket, key}` — removes the original and every variant. Idempotent: deleting a
 * file that is already gone succeeds. Objects go first, so a failure leaves the row to retry with.
 */
export function deleteFile(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const body = jsonBody(req);
    const bucket = bucketName(body.bucket);
    const key = fileKey(body.key);
    const file = await getFile(deps.pool, caller.tenantId, bucket, key);
    if (file) {
      await deps.store.delete({ bucket: caller.tenant.storageBucket, keys: fileObjectKeys(bucket, file) });
      await withTransaction(deps.pool, (client) => deleteFileRecord(client, caller.tenantId, file.id));
    }
    res.json({ success: true, message: 'File deleted successfully', key });
  };
}
