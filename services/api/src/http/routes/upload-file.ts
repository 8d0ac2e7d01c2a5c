import type { Request, Response } from 'express';
import { getBucketSettings } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { commitUpload, discardUpload, storeUpload, type StoredUpload } from '../../uploads/store-upload.ts';
import { receiveMultipart } from '../../uploads/receive-multipart.ts';
import { callerOf } from '../caller.ts';
import { clientGone } from '../client-gone.ts';
import { fileUrl, variantsView } from '../file-view.ts';
import { bucketName } from '../names.ts';

/** The form's parts around the file (boundaries, part headers, small fields) fit in this. */
const MULTIPART_OVERHEAD = 2048;

/**
 * About the file's size, from the request's Content-Length (HTTP framing guarantees the body
 * is no longer than that). 0 when it is absent (chunked transfer).
 */
function expectedFileBytes(req: Request): number {
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? Math.max(0, length - MULTIPART_OVERHEAD) : 0;
}

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
      fields = await receiveMultipart(req, {
        async onFile(file) {
          originalName = file.filename;
          stored = await storeUpload(
            deps,
            caller,
            bucket,
            settings,
            { body: file.stream, expectedBytes: expectedFileBytes(req) },
            signal,
          );
        },
      });
    } catch (err) {
      if (stored) await discardUpload(deps, caller, stored);
      throw err;
    }
    const upload = stored!;
    const file = await commitUpload(deps, caller, bucket, upload, {
      originalName,
      allowPublicAccess: fields.allowPublicAccess ?? settings.publicDefault,
    });
    const { publicUrl } = deps.config.http;
    res.status(201).json({
      success: true,
      message: 'File uploaded successfully',
      url: fileUrl(publicUrl, file, file.key),
      file: {
        id: file.id,
        key: file.key,
        bucket: file.bucket,
        original: file.originalName,
        mimetype: file.mimetype,
        size: file.size,
        allowPublicAccess: file.allowPublicAccess,
      },
      variants: variantsView(publicUrl, file),
    });
  };
}
