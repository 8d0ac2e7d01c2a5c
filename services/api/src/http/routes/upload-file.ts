import type { Request, Response } from 'express';
import { getBucketSettings } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { commitUpload, discardUpload, storeUpload, type StoredUpload } from '../../uploads/store-upload.ts';
import { receiveMultipart } from '../../uploads/receive-multipart.ts';
import { callerOf } from '../caller.ts';
import { clientGone, declaredLength } from '../request-body.ts';
import { awaitVariants } from '../../serving/await-variants.ts';
import { uploadedView } from '../file-view.ts';
import { bucketName } from '../names.ts';

/** The longest an upload with waitForVariants=true waits for its variants. */
const WAIT_FOR_VARIANTS_MS = 30_000;

/** The form's parts around the file (boundaries, part headers, small fields) fit in this. */
const MULTIPART_OVERHEAD = 2048;

/** POST /upload/:bucket — multipart/form-data with one `file`, streamed to the store. */
export function uploadFile(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(req.params.bucket);
    const settings = await getBucketSettings(deps.pool, caller.tenantId, bucket);
    const signal = clientGone(res);
    let stored: StoredUpload | undefined;
    let originalName = 'file';
    let fields;
    try {
      fields = await receiveMultipart(
        req,
        {
          async onFile(file) {
            originalName = file.filename;
            stored = await storeUpload(
              deps,
              caller,
              bucket,
              settings,
              {
                body: file.stream,
                name: file.filename,
                expectedBytes: Math.max(0, declaredLength(req) - MULTIPART_OVERHEAD),
              },
              signal,
            );
          },
        },
        signal,
      );
    } catch (err) {
      if (stored) await discardUpload(deps, caller, stored);
      throw err;
    }
    const upload = stored!;
    const file = await commitUpload(deps, caller, bucket, upload, {
      originalName,
      allowPublicAccess: fields.allowPublicAccess ?? settings.publicDefault,
    });
    // waitForVariants=true: answer once the variants are made (or failed), within a bound.
    const shown = fields.waitForVariants ? await awaitVariants(deps.pool, file, WAIT_FOR_VARIANTS_MS) : file;
    res.status(201).json(uploadedView(deps.config.http.publicUrl, shown));
  };
}
