import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { removeFiles } from '../../files/remove-files.ts';
import { defineRoute } from '../route.ts';
import { bucketName, fileKey } from '../schemas.ts';

const deleted = z.object({ success: z.literal(true), message: z.string(), key: z.string() });

/** POST /files/delete `{bucket, key}` — removes the original and every variant; idempotent. */
export function deleteFile(deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>) {
  return defineRoute({
    operationId: 'deleteFile',
    method: 'post',
    path: '/files/delete',
    tag: 'Files',
    summary: 'Delete a file with all its variants',
    description:
      "Idempotent: deleting a file that is already gone succeeds. Only files of the key's mode are deleted: " +
      'a live key cannot delete a test file, nor a test key a live one.',
    access: { scope: 'write', limit: 'delete' },
    body: { json: z.object({ bucket: bucketName, key: fileKey }) },
    responses: { 200: { description: 'The file is gone', schema: deleted } },
  }).handle(async ({ body: { bucket, key }, caller, audit }) => {
    await removeFiles(deps, caller, bucket, [key], audit);
    return { status: 200, body: { success: true, message: 'File deleted successfully', key } };
  });
}
