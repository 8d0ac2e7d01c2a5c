import type { Request, Response } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { cleanFilename } from '../../uploads/clean-filename.ts';
import { createDirectUpload, partCountOf } from '../../uploads/direct-uploads.ts';
import { callerOf } from '../caller.ts';
import { parseBody } from '../json-body.ts';
import { bucketName } from '../names.ts';

const body = z.object({
  filename: z.string().min(1).max(1024),
  size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  // Accepted for compatibility and ignored: the type is read from the bytes on completion.
  contentType: z.string().max(255).optional(),
  allowPublicAccess: z.boolean().optional(),
});

/**
 * POST /uploads/:bucket `{filename, size, allowPublicAccess?}` — starts a direct-to-S3 multipart upload:
 * reserves the quota for `size` and answers with the upload id and the part size to cut the file into.
 */
export function startDirectUpload(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(req.params.bucket);
    const input = parseBody(req, body);
    const upload = await createDirectUpload(deps, caller, bucket, {
      filename: cleanFilename(input.filename),
      size: input.size,
      allowPublicAccess: input.allowPublicAccess,
    });
    res.status(201).json({
      success: true,
      uploadId: upload.id,
      bucket,
      key: upload.fileKey,
      size: upload.declaredSize,
      partSize: upload.partSize,
      partCount: partCountOf(upload),
      expiresAt: upload.expiresAt.toISOString(),
    });
  };
}
