import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { signFileUrl } from '../../files/sign-file-url.ts';
import { fileUrl } from '../file-view.ts';
import { defineRoute } from '../route.ts';
import { bucketName, errorBody, fileKey } from '../schemas.ts';

const MAX_EXPIRES_IN = 7 * 24 * 3600;
const expiresInProblem = `must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`;

const request = z.object({
  bucket: bucketName,
  key: fileKey,
  expiresIn: z
    .number({ error: expiresInProblem })
    .int(expiresInProblem)
    .min(1, expiresInProblem)
    .max(MAX_EXPIRES_IN, expiresInProblem)
    .default(3600)
    .meta({ description: 'Seconds the URL serves the file (default 3600, at most 7 days)' }),
});

const signed = z.object({
  success: z.literal(true),
  url: z.url().meta({ description: "The file's URL with `expires` and `signature`" }),
  expiresAt: z.iso.datetime(),
});

/**
 * POST /files/signed-url `{bucket, key, expiresIn}` — a URL that serves the file (protected or not,
 * and its variants, with the same query) to whoever holds it until it expires.
 */
export function createSignedUrl(deps: Pick<ApiDeps, 'cache' | 'config'>) {
  return defineRoute({
    operationId: 'createSignedUrl',
    method: 'post',
    path: '/files/signed-url',
    tag: 'Files',
    summary: 'A time-limited URL for a file, protected or not',
    description:
      "It cannot be revoked before it expires. Only for files of the key's mode; a URL signed for a test file " +
      'serves it like any other.',
    access: { scope: 'read', limit: 'list' },
    body: { json: request },
    responses: {
      200: { description: 'The signed URL', schema: signed },
      404: { description: 'No such file in this bucket', schema: errorBody },
      503: {
        description: 'Signed URLs are not configured on this server (SIGNING_SECRET)',
        schema: errorBody,
        headers: { 'retry-after': 'Seconds to wait before asking again' },
      },
    },
  }).handle(async ({ body: { bucket, key, expiresIn }, caller }) => {
    const { file, query, expiresAt } = await signFileUrl(deps, caller, bucket, key, expiresIn);
    return {
      status: 200,
      body: {
        success: true,
        url: `${fileUrl(deps.config.http.publicUrl, file, file.key)}?${query}`,
        expiresAt: expiresAt.toISOString(),
      },
    };
  });
}
