import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { editFile } from '../../files/edit-file.ts';
import { cleanFilename } from '../../uploads/clean-filename.ts';
import { fileDetailView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileKey, fileTag, oneFile } from '../schemas.ts';

const MAX_TAGS = 20;
const MAX_METADATA_KEYS = 32;
const MAX_METADATA_BYTES = 8 * 1024;

/** A new original name: one that an upload could have been given (see cleanFilename). */
const original = z
  .string()
  .refine(
    (name) => cleanFilename(name) === name,
    'a file name is 1-255 characters, with no "/", "\\", control characters or surrounding spaces',
  )
  .meta({ description: 'The file name shown for the file (the stored key does not change)' });

const tags = z
  .array(fileTag)
  .refine((list) => new Set(list).size <= MAX_TAGS, `at most ${MAX_TAGS} tags`)
  .meta({ description: `Replaces the file's tags: a set of at most ${MAX_TAGS}, repeats counted once` });

const METADATA_KEY_HELP =
  'a key is 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-", starting with a letter or digit';

const metadata = z
  .preprocess(
    (value, ctx) => {
      // A record cannot hold `__proto__` and zod leaves it out without a word; it is refused instead,
      // as the key pattern refuses it.
      if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
        ctx.issues.push({ code: 'custom', message: METADATA_KEY_HELP, input: value, path: ['__proto__'] });
      }
      return value;
    },
    z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/), z.string(), {
        error: (issue) => (issue.code === 'invalid_key' ? METADATA_KEY_HELP : undefined),
      })
      .refine((map) => Object.keys(map).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`)
      .refine(
        (map) => Buffer.byteLength(JSON.stringify(map)) <= MAX_METADATA_BYTES,
        `at most ${MAX_METADATA_BYTES} bytes as JSON`,
      ),
  )
  .meta({
    description:
      `Replaces the file's metadata: string values, at most ${MAX_METADATA_KEYS} keys and ` +
      `${MAX_METADATA_BYTES} bytes as JSON`,
    maxProperties: MAX_METADATA_KEYS,
  });

const changes = z
  .strictObject({
    original: original.optional(),
    tags: tags.optional(),
    metadata: metadata.optional(),
    allowPublicAccess: z.boolean().optional(),
  })
  .refine(
    (body) => Object.values(body).some((value) => value !== undefined),
    'send at least one of original, tags, metadata and allowPublicAccess',
  )
  .meta({ minProperties: 1 });

/** PATCH /files/:bucket/:key — changes a file's name, tags, metadata or visibility. */
export function updateFile(deps: Pick<ApiDeps, 'pool' | 'config' | 'cache'>) {
  return defineRoute({
    operationId: 'updateFile',
    method: 'patch',
    path: '/files/:bucket/:key',
    tag: 'Files',
    summary: "Change a file's name, tags, metadata or visibility",
    description:
      'Only the fields sent change; `tags` and `metadata` replace the whole set (send `[]` or `{}` to ' +
      'clear them). The file counts as modified now (`updatedAt`). A change of `allowPublicAccess` holds ' +
      'from the next request, on every API replica within 2 s (KEY_CACHE_TTL_MS); copies that browsers or ' +
      'CDNs cached while the file was public ' +
      '(`Cache-Control: public, immutable`) are beyond the API.',
    // Editing files is writing them, as uploading is; the delete class is kept for what destroys.
    access: { scope: 'write', limit: 'upload' },
    params: z.object({ bucket: bucketName, key: fileKey }),
    body: { json: changes },
    responses: {
      200: { description: 'The file as it is now', schema: oneFile },
      404: {
        description: "No such file in this bucket, expired, or of the other mode than the key's",
        schema: errorBody,
      },
    },
  }).handle(async ({ params: { bucket, key }, body, caller, audit }) => {
    const file = await editFile(
      deps,
      caller,
      bucket,
      key,
      {
        originalName: body.original,
        tags: body.tags,
        metadata: body.metadata,
        allowPublicAccess: body.allowPublicAccess,
      },
      audit,
    );
    return { status: 200, body: { success: true, file: fileDetailView(deps.config.http.publicUrl, file) } };
  });
}
