import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { findFile } from '../../files/find-file.ts';
import { fileDetailView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileKey, oneFile } from '../schemas.ts';

/** GET /files/:bucket/:key — one file's metadata, with its variants' status. */
export function getFile(deps: Pick<ApiDeps, 'cache' | 'config'>) {
  return defineRoute({
    operationId: 'getFile',
    method: 'get',
    path: '/files/:bucket/:key',
    tag: 'Files',
    summary: "One file's metadata, with its variants' status",
    access: { scope: 'read', limit: 'list' },
    params: z.object({ bucket: bucketName, key: fileKey }),
    responses: {
      200: { description: 'The file', schema: oneFile },
      404: {
        description: "No such file in this bucket, expired, or of the other mode than the key's",
        schema: errorBody,
      },
    },
  }).handle(async ({ params: { bucket, key }, caller }) => {
    const file = await findFile(deps, caller, bucket, key);
    return { status: 200, body: { success: true, file: fileDetailView(deps.config.http.publicUrl, file) } };
  });
}
