import type { Request, Response } from 'express';
import { deleteBucketRecords, objectKeyOf, withTransaction } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { bucketName } from '../names.ts';
import { jsonBody } from '../json-body.ts';

/** POST /files/delete-bucket `{bucket}` — removes every file of a logical bucket, with its variants. */
export function deleteBucket(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(jsonBody(req).bucket);
    await deps.store.deletePrefix({ bucket: caller.tenant.storageBucket, prefix: objectKeyOf(bucket, '') });
    const filesDeleted = await withTransaction(deps.pool, (client) =>
      deleteBucketRecords(client, caller.tenantId, bucket),
    );
    res.json({ success: true, message: 'Bucket deleted successfully', bucket, filesDeleted });
  };
}
