import type { Request, Response } from 'express';
import {
  VARIANT_NAMES,
  deleteBucketRecords,
  objectKeyOf,
  variantFilename,
  withTransaction,
} from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { bucketName } from '../names.ts';
import { jsonBody } from '../json-body.ts';

const DELETE_BATCH = 1000;

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
    const keys = files.flatMap((f) => [f.key, ...VARIANT_NAMES.map((v) => variantFilename(f.id, v))]);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH).map((k) => objectKeyOf(bucket, k));
      await deps.store.delete({ bucket: caller.tenant.storageBucket, keys: batch });
    }
    res.json({ success: true, message: 'Bucket deleted successfully', bucket, filesDeleted: files.length });
  };
}
