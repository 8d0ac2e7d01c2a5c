import type { Request, Response } from 'express';
import { getBucketSettings } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { cleanFilename, parseBoolean } from '../../uploads/receive-multipart.ts';
import { commitUpload, storeUpload } from '../../uploads/store-upload.ts';
import { callerOf } from '../caller.ts';
import { uploadedView } from '../file-view.ts';
import { bucketName } from '../names.ts';
import { clientGone, declaredLength } from '../request-body.ts';

/**
 * PUT /upload/:bucket/:filename — the request body is the file, streamed with no multipart parsing.
 * `?allowPublicAccess=false` makes it protected; the file name is metadata only.
 */
export function putFile(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(req.params.bucket);
    const query = req.query.allowPublicAccess;
    const allowPublicAccess =
      query === undefined ? undefined : parseBoolean('allowPublicAccess', String(query));
    const settings = await getBucketSettings(deps.pool, caller.tenantId, bucket);
    const originalName = cleanFilename(String(req.params.filename));
    const stored = await storeUpload(
      deps,
      caller,
      bucket,
      settings,
      {
        body: req,
        name: originalName,
        expectedBytes: declaredLength(req),
        // Node ends a body with a Content-Length at exactly that many bytes, or fails it.
        exactBytes: req.headers['content-length'] === undefined ? undefined : declaredLength(req),
      },
      clientGone(res),
    );
    const file = await commitUpload(deps, caller, bucket, stored, {
      originalName,
      allowPublicAccess: allowPublicAccess ?? settings.publicDefault,
    });
    res.status(201).json(uploadedView(deps.config.http.publicUrl, file));
  };
}
