import type { Request, Response } from 'express';
import { fileNotFound, getFile } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { fileView, variantsView } from '../file-view.ts';
import { bucketName, fileKey } from '../names.ts';

/** GET /files/:bucket/:key — one file's metadata, with its variants' status. */
export function getFileMetadata(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(req.params.bucket);
    const file = await getFile(deps.pool, caller.tenantId, bucket, fileKey(req.params.key));
    if (!file) throw fileNotFound();
    const { publicUrl } = deps.config.http;
    res.json({
      success: true,
      file: {
        ...fileView(publicUrl, file),
        variantStatus: file.variantStatus,
        variants: variantsView(publicUrl, file),
      },
    });
  };
}
