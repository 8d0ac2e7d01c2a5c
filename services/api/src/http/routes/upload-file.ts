import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { uploadMultipart } from '../../uploads/streamed-uploads.ts';
import { uploadedView } from '../file-view.ts';
import { clientGone, declaredLength } from '../request-body.ts';
import { defineRoute } from '../route.ts';
import { bucketName, expiresInText, flag, uploadedFile } from '../schemas.ts';

const form = z.object({
  file: z.string().meta({
    description:
      "The file, with its name as the part's filename (UTF-8) or filename*; its type is read from its bytes",
    contentMediaType: 'application/octet-stream',
  }),
  allowPublicAccess: flag
    .optional()
    .meta({ description: "Serve it to anyone without a key (default: true, or the bucket's default)" }),
  waitForVariants: flag
    .optional()
    .meta({ description: 'Answer once the variants of an image are made or failed (at most 30 s)' }),
  expiresIn: expiresInText.optional(),
});

/** The form's fields but the file, which the upload checks as they stream in. */
const fields = form.omit({ file: true });

/** POST /upload/:bucket — multipart/form-data with one `file`, streamed to the store. */
export function uploadFile(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>) {
  return defineRoute({
    operationId: 'uploadFile',
    method: 'post',
    path: '/upload/:bucket',
    tag: 'Uploads',
    summary: 'Upload a file (multipart/form-data)',
    description:
      'The file is streamed to storage, never buffered whole; its type is read from its bytes. ' +
      'Images get WebP variants, made in the background unless `waitForVariants` is set.',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ bucket: bucketName }),
    body: {
      multipart: form,
      description:
        'One `file` part, and optionally the fields `allowPublicAccess`, `waitForVariants` and `expiresIn`',
    },
    responses: { 201: { description: 'The file is stored', schema: uploadedFile } },
  }).handle(async ({ params: { bucket }, caller, audit, req, res }) => {
    const file = await uploadMultipart(
      deps,
      caller,
      bucket,
      {
        headers: req.headers,
        body: req,
        fields,
        declaredBytes: declaredLength(req),
        signal: clientGone(res),
      },
      audit,
    );
    return { status: 201, body: uploadedView(deps.config.http.publicUrl, file) };
  });
}
