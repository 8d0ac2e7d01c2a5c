import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { uploadRaw } from '../../uploads/streamed-uploads.ts';
import { uploadedView } from '../file-view.ts';
import { clientGone, declaredLength } from '../request-body.ts';
import { defineRoute } from '../route.ts';
import { bucketName, expiresInText, flag, uploadedFile } from '../schemas.ts';

/**
 * PUT /upload/:bucket/:filename — the request body is the file, streamed with no multipart parsing.
 * `?allowPublicAccess=false` makes it protected; the file name is metadata only.
 */
export function putFile(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>) {
  return defineRoute({
    operationId: 'putFile',
    method: 'put',
    path: '/upload/:bucket/:filename',
    tag: 'Uploads',
    summary: 'Upload a file as the raw request body',
    description:
      'The body is the file, streamed to storage with no multipart parsing; its type is read from its ' +
      'bytes. The file name in the path is metadata only.',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({
      bucket: bucketName,
      filename: z.string().meta({
        description: "The file's name, percent-encoded UTF-8 (metadata only)",
        example: 'report.pdf',
      }),
    }),
    query: z.object({
      allowPublicAccess: flag
        .optional()
        .meta({ description: "Serve it to anyone without a key (default: true, or the bucket's default)" }),
      expiresIn: expiresInText.optional(),
    }),
    body: { raw: 'application/octet-stream', description: 'The file itself' },
    responses: { 201: { description: 'The file is stored', schema: uploadedFile } },
  }).handle(async ({ params: { bucket, filename }, query, caller, audit, req, res }) => {
    const file = await uploadRaw(
      deps,
      caller,
      bucket,
      {
        body: req,
        filename,
        ...query,
        length: req.headers['content-length'] === undefined ? undefined : declaredLength(req),
        signal: clientGone(res),
      },
      audit,
    );
    return { status: 201, body: uploadedView(deps.config.http.publicUrl, file) };
  });
}
