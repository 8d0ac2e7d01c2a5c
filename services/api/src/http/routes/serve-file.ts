import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { fileNotFound, getFileById, objectKeyOf } from '@stowage/core';
import type { Authenticator } from '../../auth/authenticator.ts';
import type { ApiDeps } from '../../deps.ts';
import { admit, type Credentials } from '../../serving/admit.ts';
import { isActive, servingHeaders } from '../../serving/serving-headers.ts';
import { awaitVariants } from '../../serving/await-variants.ts';
import { byteRange } from '../../serving/byte-range.ts';
import { notModified } from '../../serving/conditional.ts';
import { resolveObject } from '../../serving/resolve-object.ts';
import { parseServeTarget } from '../../serving/serve-target.ts';
import { SmallObjectCache } from '../../serving/object-cache.ts';
import { clientGone } from '../request-body.ts';

/** Files up to this size are kept in memory once served (SERVE_CACHE_SIZE in all). */
const SMALL_OBJECT_BYTES = 256 * 1024;

/**
 * How long the presigned URL of a redirected download stays valid: enough for a client to follow the
 * redirect, short for a URL that leaks. A download that has started is not cut off when it expires.
 */
const REDIRECT_URL_SECONDS = 300;

/** How long a GET for a variant still being made waits for it before answering 503. */
const VARIANT_WAIT_MS = 3000;

/**
 * GET|HEAD /:tenantId/:bucket/:filename — public files to anyone; protected files only with a read key
 * of their own tenant. Anything else is 404, the same as a file that does not exist.
 */
export function serveFile(deps: ApiDeps, auth: Authenticator) {
  const cache = new SmallObjectCache(deps.store, {
    maxBytes: deps.config.serveCacheBytes,
    maxObjectBytes: SMALL_OBJECT_BYTES,
  });
  return async (req: Request, res: Response) => {
    const target = parseServeTarget({
      tenantId: String(req.params.tenantId),
      bucket: String(req.params.bucket),
      filename: String(req.params.filename),
    });
    const tenant = target && (await auth.tenant(target.tenantId));
    const file = tenant && target && (await getFileById(deps.pool, tenant.id, target.bucket, target.fileId));
    if (!target || !tenant || !file) throw fileNotFound();
    const credentials = {
      query: req.query as Credentials['query'],
      origin: req.headers.origin,
      identify: () => auth.identify(req),
    };
    const cors = await admit(file, credentials, deps.config.signingSecret);
    const current = target.variant ? await awaitVariants(deps.pool, file, VARIANT_WAIT_MS) : file;
    const served = resolveObject(current, target);
    const { key, size } = served;
    const headers = {
      ...servingHeaders({ ...served, filename: target.filename, isPublic: file.allowPublicAccess }),
      ...cors,
    };
    const conditions = {
      range: req.get('range'),
      ifRange: req.get('if-range'),
      ifNoneMatch: req.get('if-none-match'),
      ifModifiedSince: req.get('if-modified-since'),
    };
    if (notModified(conditions, served)) {
      res.status(304).set(headers).end();
      return;
    }
    const location = { bucket: tenant.storageBucket, key: objectKeyOf(target.bucket, key) };
    const redirectFrom = deps.config.downloadRedirectBytes;
    if (
      deps.store.presignGet &&
      redirectFrom !== undefined &&
      size >= redirectFrom &&
      !isActive(served.mimetype)
    ) {
      // Authorised above; the bytes come straight from the store, with the headers we would send.
      const url = await deps.store.presignGet({
        ...location,
        expiresInSeconds: REDIRECT_URL_SECONDS,
        contentType: headers['content-type']!,
        cacheControl: headers['cache-control']!,
      });
      // The CORS answer the file itself would carry.
      res.status(307).set({ location: url, 'cache-control': 'private, no-store', ...cors });
      res.end();
      return;
    }
    const range = byteRange(conditions, size, served.etag);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['content-length'] = String(range ? range.end - range.start + 1 : size);
    if (req.method === 'HEAD') {
      // The same answer a GET would give, without fetching the bytes.
      if (!cache.holds(location) && !(await deps.store.head(location))) throw fileNotFound();
      res
        .status(range ? 206 : 200)
        .set(headers)
        .end();
      return;
    }
    const kept = await cache.get(location, size);
    if (kept) {
      const body = range ? kept.subarray(range.start, range.end + 1) : kept;
      res
        .status(range ? 206 : 200)
        .set(headers)
        .end(body);
      deps.metrics.bytesServed.inc(body.length);
      return;
    }
    // Fetched before any header is set, so a failure still gets a clean error response.
    const object = await deps.store.get({
      ...location,
      ...(range ? { range } : {}),
      signal: clientGone(res),
    });
    res.status(range ? 206 : 200).set(headers);
    let sent = 0;
    object.body.on('data', (chunk: Buffer) => (sent += chunk.length));
    try {
      await pipeline(object.body, res);
    } finally {
      deps.metrics.bytesServed.inc(sent);
    }
  };
}
