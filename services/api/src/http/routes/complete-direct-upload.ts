import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { finishDirectUpload } from '../../uploads/direct-uploads.ts';
import { uploadedView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { uploadId, uploadedFile } from '../schemas.ts';

const body = z.object({
  parts: z
    .array(
      z.object({
        partNumber: z.number().int().min(1),
        etag: z.string().min(1).max(256).meta({ description: 'The ETag S3 answered the part with' }),
      }),
    )
    .max(10_000)
    .optional()
    .meta({ description: 'Every part with its ETag, checked against what S3 holds (optional)' }),
});

/**
 * POST /uploads/:id/complete `{parts?: [{partNumber, etag}]}` — checks the parts against the store and
 * records the file, answering like an upload. A mismatch discards the upload.
 */
export function completeDirectUpload(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>) {
  return defineRoute({
    operationId: 'completeDirectUpload',
    method: 'post',
    path: '/uploads/:id/complete',
    tag: 'Uploads',
    summary: 'Complete a direct upload and record the file',
    description:
      'The parts must make up exactly the declared size; the type is read from the bytes. ' +
      'Anything wrong discards the whole upload and releases its quota.',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ id: uploadId }),
    body: { json: body, maxBytes: 1024 * 1024 },
    responses: { 201: { description: 'The file is stored', schema: uploadedFile } },
  }).handle(async ({ params: { id }, body: { parts }, caller, audit }) => {
    const file = await finishDirectUpload(deps, caller, id, parts, audit);
    return { status: 201, body: uploadedView(deps.config.http.publicUrl, file) };
  });
}
