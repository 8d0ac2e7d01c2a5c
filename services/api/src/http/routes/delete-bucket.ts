import type { Request, Response } from 'express';
import { deleteBucketRecords, fileObjectKeys, withTransaction } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { bucketName } from '../names.ts';
import { jsonBody } from '../json-body.ts';

/**
 * POST /files/delete-bucket `{bucket}` — removes every file of a logical bucket, with its variants. The
 * rows go first, in one transaction, and then exactly their objects: an upload that commits into the
 * bucket meanwhile keeps both its row and its object.
 */
export function deleteBucket(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(jsonBody(req).bucket);
    const files = await withTransaction(deps.pool, (client) =>
      deleteBucketRecords(client, caller.tenantId, bucket),
    );
    // The store deletes in batches of what it takes at once.
    const keys = files.flatMap((file) => fileObjectKeys(bucket, file));
    await deps.store.delete({ bucket: caller.tenant.storageBucket, keys });
    res.json({ success: true, message: 'Bucket deleted successfully', bucket, filesDeleted: files.length });
  };
}
