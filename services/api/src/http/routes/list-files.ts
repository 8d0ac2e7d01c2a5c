import { z } from 'zod';
import { FILE_KINDS } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { listBucket } from '../../files/list-bucket.ts';
import { fileView } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileTag, fileView as fileSchema, pageLimit } from '../schemas.ts';

/** A MIME type as files show it (`application/pdf`, `audio/ogg; codecs=opus`), or a pattern (`image/*`). */
const mimeType = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[A-Za-z0-9][\w!#$&^.+-]*(; ?[\w.+-]+=[\w.+-]+)*)$/);

const TYPE_HELP =
  'use image, video, audio, document, archive, other, a MIME pattern such as image/* or a MIME type';

const query = z.object({
  limit: pageLimit('Files', 1000, 100),
  cursor: z
    .string()
    .max(512)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page, with the same `order` (and filters)' }),
  order: z
    .enum(['asc', 'desc'], { error: 'use asc or desc' })
    .default('asc')
    .meta({ description: 'By upload time: oldest first (`asc`, the default) or newest first' }),
  type: z
    .union([z.enum(FILE_KINDS), mimeType], { error: TYPE_HELP })
    .optional()
    .meta({
      description:
        'A category: `image`, `video`, `audio` (`image/*`, `video/*`, `audio/*`); `document` (`text/*`, ' +
        'PDF, RTF, PostScript, XML, EPUB, Mobipocket, Word, Excel, PowerPoint and OpenDocument); ' +
        '`archive` (zip, tar, gzip, bzip2, xz, zstd, 7z, rar, lz4, lzip, compress, cpio, arj, lzh, ace, ' +
        'cab, ar); `other` (everything else). Or a pattern such as `image/*`, or a MIME type as files ' +
        'show it, matched exactly.',
    }),
  tag: fileTag.optional().meta({ description: 'Only files that have this tag' }),
  search: z
    .string()
    .min(1, 'must not be empty')
    .max(255, 'at most 255 characters')
    .optional()
    .meta({ description: 'Only files whose original name contains this, in any case' }),
  modifiedAfter: z.iso
    .datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2025-01-31T12:00:00Z' })
    .transform((time) => new Date(time))
    .optional()
    .meta({ description: 'Only files uploaded or changed (by PATCH) after this time: their `updatedAt`' }),
});

const page = z.object({
  success: z.literal(true),
  bucket: z.string(),
  files: z.array(fileSchema),
  nextCursor: z.string().nullable(),
  hasMore: z.boolean(),
});

/** GET /files/:bucket — a page of the bucket's files, in upload order, optionally filtered. */
export function listFiles(deps: Pick<ApiDeps, 'pool' | 'config'>) {
  return defineRoute({
    operationId: 'listFiles',
    method: 'get',
    path: '/files/:bucket',
    tag: 'Files',
    summary: "A page of a bucket's files, oldest first unless asked otherwise",
    description:
      "The files of the key's mode only (a test key lists test files, a live key live ones); expired files " +
      'are never listed. Filters combine: a file is listed if it matches all of them. Pages follow each ' +
      'other by `nextCursor`, which keeps its place while files come, go or change: passed back with the ' +
      'same filters, every match is listed exactly once. A cursor works only with the `order` it was made in.',
    access: { scope: 'read', limit: 'list' },
    params: z.object({ bucket: bucketName }),
    query,
    responses: {
      200: { description: 'A page of files', schema: page },
      404: { description: 'No such bucket', schema: errorBody },
    },
  }).handle(async ({ params: { bucket }, query, caller }) => {
    const found = await listBucket(deps, caller, bucket, query);
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
