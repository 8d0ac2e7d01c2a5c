import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { cancelDirectUpload } from '../../uploads/direct-uploads.ts';
import { defineRoute } from '../route.ts';
import { uploadId } from '../schemas.ts';

const aborted = z.object({ success: z.literal(true), message: z.string() });

/** POST /uploads/:id/abort — abandons a direct upload and releases its quota. */
export function abortDirectUpload(deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics'>) {
  return defineRoute({
    operationId: 'abortDirectUpload',
    method: 'post',
    path: '/uploads/:id/abort',
    tag: 'Uploads',
    summary: 'Abandon a direct upload',
    description: 'Aborts the upload in S3 and releases its reserved quota.',
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ id: uploadId }),
    responses: { 200: { description: 'The upload is gone', schema: aborted } },
  }).handle(async ({ params: { id }, caller }) => {
    await cancelDirectUpload(deps, caller, id);
    return { status: 200, body: { success: true, message: 'Upload aborted' } };
  });
}
