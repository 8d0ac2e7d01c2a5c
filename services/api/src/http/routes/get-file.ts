import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { findFile } from '../../files/find-file.ts';
import { fileView, variantsView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import {
  bucketName,
  errorBody,
  fileKey,
  fileView as fileSchema,
  variantsView as variantsSchema,
} from '../schemas.ts';

const fileDetail = z.object({
  success: z.literal(true),
  file: fileSchema.extend({
    variantStatus: z
      .enum(['none', 'pending', 'ready', 'failed'])
      .meta({ description: 'Of the variants as a whole; `none` for files that get none' }),
    variants: variantsSchema,
  }),
});

/** GET /files/:bucket/:key — one file's metadata, with its variants' status. */
export function getFile(deps: Pick<ApiDeps, 'pool' | 'config'>) {
  return defineRoute({
    operationId: 'getFile',
    method: 'get',
    path: '/files/:bucket/:key',
    tag: 'Files',
    summary: "One file's metadata, with its variants' status",
    access: { scope: 'read', limit: 'list' },
    params: z.object({ bucket: bucketName, key: fileKey }),
    responses: {
      200: { description: 'The file', schema: fileDetail },
      404: { description: 'No such file in this bucket', schema: errorBody },
    },
  }).handle(async ({ params: { bucket, key }, caller }) => {
    const file = await findFile(deps, caller.tenantId, bucket, key);
    const { publicUrl } = deps.config.http;
    return {
      status: 200,
      body: {
        success: true,
        file: {
          ...fileView(publicUrl, file),
          variantStatus: file.variantStatus,
          variants: variantsView(publicUrl, file),
        },
      },
    };
  });
}
