import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { removeBucket } from '../../files/remove-bucket.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody } from '../schemas.ts';

const deleted = z.object({
  success: z.literal(true),
  message: z.string(),
  bucket: z.string(),
  filesDeleted: z.number().int().nonnegative(),
});

/** POST /files/delete-bucket `{bucket}` — removes every file of a bucket, with its variants. */
export function deleteBucket(deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>) {
  return defineRoute({
    operationId: 'deleteBucket',
    method: 'post',
    path: '/files/delete-bucket',
    tag: 'Files',
    summary: 'Delete a bucket with every file in it',
    description:
      'A bucket declared in the StorageTenant is emptied but stays, with its settings; any other bucket ' +
      "is gone until something is uploaded into it again. Only files of the key's mode are deleted (a live " +
      'key deletes live files, a test key test files); a bucket still holding files of the other mode stays.',
    access: { scope: 'admin', limit: 'delete' },
    body: { json: z.object({ bucket: bucketName }) },
    responses: {
      200: { description: 'The files deleted', schema: deleted },
      404: { description: 'No such bucket', schema: errorBody },
    },
  }).handle(async ({ body: { bucket }, caller, audit }) => {
    const filesDeleted = await removeBucket(deps, caller, bucket, audit);
    return {
      status: 200,
      body: { success: true, message: 'Bucket deleted successfully', bucket, filesDeleted },
    };
  });
}
