import type { Request, Response } from 'express';
import { getBucketSettings } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { commitUpload, discardUpload, storeUpload, type StoredUpload } from '../../uploads/store-upload.ts';
import { receiveMultipart } from '../../uploads/receive-multipart.ts';
import { callerOf } from '../caller.ts';
import { clientGone } from '../client-gone.ts';
import { fileUrl, variantsView } from '../file-view.ts';
import { bucketName } from '../names.ts';

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
          stored = await storeUpload(deps, caller, bucket, settings, file.stream, signal);
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
