import type { Response } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { ApiMetrics } from '@stowage/core';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { ApiDeps } from '../../deps.ts';
import { FileServer, type ServeAnswer } from '../../serving/file-server.ts';
import { clientGone } from '../request-body.ts';
import { defineRoute, type ResponseContract } from '../route.ts';

const params = z.object({
  tenantId: z.string().meta({ description: 'The tenant the file belongs to', example: 'acme' }),
  bucket: z.string().meta({ description: 'The logical bucket', example: 'avatars' }),
  filename: z.string().meta({
    description: "The stored name, `<uuid>.<ext>`, or one of an image's variants, `<uuid>-<variant>.webp`",
  }),
});

// A signature in any other shape (given twice, say) is no signature: the file answers as unsigned, so a
// protected one is 404 like any other URL that does not grant it.
const query = z.object({
  expires: z
    .string()
    .optional()
    .catch(undefined)
    .meta({ description: "A signed URL's expiry, in Unix seconds" }),
  signature: z.string().optional().catch(undefined).meta({ description: "A signed URL's signature" }),
});

const fileHeaders = {
  'content-length': 'The bytes sent',
  etag: "The file's version, for If-None-Match and If-Range",
  'last-modified': 'When the file was uploaded',
  'cache-control': 'Public files: `public, max-age=31536000, immutable`; protected ones: `private, no-cache`',
  'accept-ranges': '`bytes`',
  'x-content-type-options': '`nosniff`',
  'content-security-policy': 'A sandbox: the file never runs as part of a page',
  'content-disposition': 'For active types (SVG, HTML, XML, JavaScript): `attachment`',
  'access-control-allow-origin':
    "`*` for a public file; for a protected one, the page's origin if the key allows it",
};

/** The answers to GET, or to HEAD without their bodies. */
function responses(body: Pick<ResponseContract, 'contentType'>) {
  return {
    200: {
      description: 'The file, as the type read from its bytes at upload',
      ...body,
      headers: fileHeaders,
    },
    206: {
      description: 'The requested byte range of the file',
      ...body,
      headers: { ...fileHeaders, 'content-range': '`bytes <first>-<last>/<size>`' },
    },
    304: {
      description: 'Not modified since the version named in If-None-Match or If-Modified-Since',
      headers: { etag: fileHeaders.etag, 'cache-control': fileHeaders['cache-control'] },
    },
    307: {
      description: 'A large file (DOWNLOAD_REDIRECT_SIZE), served by the object store',
      headers: {
        location: 'A presigned URL of the file, valid for 5 minutes, answered with the same type and caching',
        'cache-control': '`private, no-store`',
        'access-control-allow-origin': fileHeaders['access-control-allow-origin'],
      },
    },
  };
}

async function send(res: Response, answer: ServeAnswer, metrics: Pick<ApiMetrics, 'bytesServed'>) {
  res.status(answer.status).set(answer.headers);
  const { body } = answer;
  if (!(body instanceof Readable)) {
    res.end(body);
    if (body) metrics.bytesServed.inc(body.length);
    return;
  }
  let sent = 0;
  body.on('data', (chunk: Buffer) => (sent += chunk.length));
  try {
    await pipeline(body, res);
  } finally {
    metrics.bytesServed.inc(sent);
  }
}

/**
 * GET and HEAD /:tenantId/:bucket/:filename — public files to anyone; protected files only with a signed
 * URL or a read key of their own tenant. Anything else is 404, the same as a file that does not exist.
 */
export function serveFile(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>,
  auth: Authenticator,
) {
  const server = new FileServer(deps, auth);
  // HEAD first: express would otherwise hand HEAD requests to the GET route.
  return (['head', 'get'] as const).map((method) =>
    defineRoute({
      operationId: method === 'get' ? 'serveFile' : 'headFile',
      method,
      path: '/:tenantId/:bucket/:filename',
      tag: 'Serving',
      summary: method === 'get' ? 'A file, or a byte range of it' : "A file's headers, without its bytes",
      access: 'public',
      limitPerClient: deps.config.serveRateLimit,
      params,
      query,
      responses: responses(method === 'get' ? { contentType: '*/*' } : {}),
    }).handle(async ({ params: path, query: signed, req, res }) => {
      const answer = await server.serve({
        method: req.method === 'HEAD' ? 'HEAD' : 'GET',
        path,
        credentials: { query: signed, origin: req.headers.origin, identify: () => auth.identify(req) },
        conditions: {
          range: req.get('range'),
          ifRange: req.get('if-range'),
          ifNoneMatch: req.get('if-none-match'),
          ifModifiedSince: req.get('if-modified-since'),
        },
        signal: clientGone(res),
      });
      await send(res, answer, deps.metrics);
      return undefined;
    }),
  );
}
