import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { removeFiles } from '../../files/remove-files.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileKey } from '../schemas.ts';

const MAX_KEYS = 1000;
const MALFORMED = 'Not a stored file key: keys look like <uuid>.<ext>';

/**
 * The keys asked for, each once, in the order given, split by whether they can name a file at all. A
 * malformed key fails on its own rather than failing the batch: the others are still deleted.
 */
const keys = z
  .array(z.string())
  .min(1, `send 1 to ${MAX_KEYS} keys`)
  .max(MAX_KEYS, `send 1 to ${MAX_KEYS} keys`)
  .meta({ description: `1 to ${MAX_KEYS} stored file keys (\`<uuid>.<ext>\`); a repeated key counts once` })
  .transform((list) => {
    const unique = [...new Set(list)];
    const wellFormed = (key: string) => fileKey.safeParse(key).success;
    return { files: unique.filter(wellFormed), malformed: unique.filter((key) => !wellFormed(key)) };
  });

const result = z.object({
  success: z.literal(true),
  deleted: z.array(z.string()).meta({
    description: 'Keys of the files that are gone, with their variants; those already gone included',
  }),
  failed: z
    .array(z.object({ key: z.string(), code: errorBody.shape.code, message: z.string() }))
    .meta({ description: 'Keys that were not deleted, with the error each would have had on its own' }),
});

/** POST /files/delete-many `{bucket, keys}` — removes many files of a bucket at once; idempotent. */
export function deleteFiles(deps: Pick<ApiDeps, 'pool' | 'store' | 'cache'>) {
  return defineRoute({
    operationId: 'deleteFiles',
    method: 'post',
    path: '/files/delete-many',
    tag: 'Files',
    summary: 'Delete many files of a bucket, each with all its variants',
    description:
      'Idempotent, as POST /files/delete: keys of files already gone are listed as deleted. A malformed ' +
      'key is listed in `failed` (`BAD_REQUEST`) and the others are still deleted. If the object store ' +
      'fails partway, the request fails with every file still listed (some may no longer serve): send ' +
      'it again.',
    access: { scope: 'write', limit: 'delete' },
    // 1000 keys of up to 47 characters, quoted and separated.
    body: { json: z.object({ bucket: bucketName, keys }), maxBytes: 64 * 1024 },
    responses: { 200: { description: 'What was deleted and what was not', schema: result } },
  }).handle(async ({ body: { bucket, keys }, caller, audit }) => {
    await removeFiles(deps, caller, bucket, keys.files, audit);
    return {
      status: 200,
      body: {
        success: true,
        deleted: keys.files,
        failed: keys.malformed.map((key) => ({ key, code: 'BAD_REQUEST' as const, message: MALFORMED })),
      },
    };
  });
}
