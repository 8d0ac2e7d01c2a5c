import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { partCountOf, startDirectUpload } from '../../uploads/direct-uploads.ts';
import { defineRoute } from '../route.ts';
import { bucketName, expiresIn, uploadId } from '../schemas.ts';

const body = z.object({
  filename: z
    .string()
    .min(1)
    .max(1024)
    .meta({ description: "The file's name: metadata, and the stored key's extension", example: 'movie.mp4' }),
  size: z
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .meta({ description: 'The exact size of the file in bytes; the quota for it is reserved now' }),
  contentType: z
    .string()
    .max(255)
    .optional()
    .meta({ description: 'Accepted for compatibility and ignored: the type is read from the bytes' }),
  allowPublicAccess: z
    .boolean()
    .optional()
    .meta({ description: "Serve it to anyone without a key (default: true, or the bucket's default)" }),
  expiresIn: expiresIn.optional(),
});

const started = z.object({
  success: z.literal(true),
  uploadId,
  bucket: z.string(),
  key: z.string().meta({ description: 'The stored file name the upload will have, `<uuid>.<ext>`' }),
  size: z.number().int().positive(),
  partSize: z.number().int().positive().meta({ description: 'Every part but the last is this long' }),
  partCount: z.number().int().positive(),
  expiresAt: z.iso.datetime().meta({ description: 'Complete the upload before this, or it is abandoned' }),
});

/**
 * POST /uploads/:bucket `{filename, size, allowPublicAccess?}` — starts a direct-to-S3 multipart upload:
 * reserves the quota for `size` and answers with the upload id and the part size to cut the file into.
 */
export function createDirectUpload(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'cache'>) {
  return defineRoute({
    operationId: 'createDirectUpload',
    method: 'post',
    path: '/uploads/:bucket',
    tag: 'Uploads',
    summary: 'Start a direct-to-S3 multipart upload',
    description:
      'For very large files: the quota for `size` is reserved now, the parts go straight to S3 with ' +
      'presigned URLs (POST /uploads/{id}/parts), and POST /uploads/{id}/complete records the file. ' +
      'Needs an S3 object store (not the embedded filesystem).',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ bucket: bucketName }),
    body: { json: body },
    responses: { 201: { description: 'The upload is started', schema: started } },
  }).handle(async ({ params: { bucket }, body, caller }) => {
    const upload = await startDirectUpload(deps, caller, bucket, body);
    return {
      status: 201,
      body: {
        success: true,
        uploadId: upload.id,
        bucket,
        key: upload.fileKey,
        size: upload.declaredSize,
        partSize: upload.partSize,
        partCount: partCountOf(upload),
        expiresAt: upload.expiresAt.toISOString(),
      },
    };
  });
}
