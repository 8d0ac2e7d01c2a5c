import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { listBucket } from '../../files/list-bucket.ts';
import { fileView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileView as fileSchema } from '../schemas.ts';

const query = z.object({
  limit: z.coerce
    .number({ error: 'must be a whole number from 1 to 1000' })
    .int('must be a whole number from 1 to 1000')
    .min(1, 'must be a whole number from 1 to 1000')
    .max(1000, 'must be a whole number from 1 to 1000')
    .default(100)
    .meta({ description: 'Files per page (default 100)' }),
  cursor: z.string().max(512).optional().meta({ description: 'The `nextCursor` of the previous page' }),
});

const page = z.object({
  success: z.literal(true),
  bucket: z.string(),
  files: z.array(fileSchema),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

/** GET /files/:bucket — a page of the bucket's files, oldest first. */
export function listFiles(deps: Pick<ApiDeps, 'pool' | 'config'>) {
  return defineRoute({
    operationId: 'listFiles',
    method: 'get',
    path: '/files/:bucket',
    tag: 'Files',
    summary: "A page of a bucket's files, oldest first",
    access: { scope: 'read', limit: 'list' },
    params: z.object({ bucket: bucketName }),
    query,
    responses: {
      200: { description: 'A page of files', schema: page },
      404: { description: 'No such bucket', schema: errorBody },
    },
  }).handle(async ({ params: { bucket }, query: { limit, cursor }, caller }) => {
    const found = await listBucket(deps, caller.tenantId, bucket, { limit, cursor });
    return {
      status: 200,
      body: {
        success: true,
        bucket,
        files: found.files.map((file) => fileView(deps.config.http.publicUrl, file)),
        nextCursor: found.nextCursor,
        hasMore: found.nextCursor !== null,
      },
    };
  });
}
