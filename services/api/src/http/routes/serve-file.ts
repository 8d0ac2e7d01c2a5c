import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import {
  rangeNotSatisfiable,
  fileNotFound,
  getFileById,
  grants,
  objectKeyOf,
  serviceUnavailable,
  TENANT_ID,
  BUCKET_NAME,
  type FileRecord,
  type VariantName,
} from '@stowage/core';
import { originAllowed, type Authenticator } from '../../auth/authenticator.ts';
import type { ApiDeps } from '../../deps.ts';
import { isActive, notModified, servingHeaders, type ServedFile } from '../../serving/serving-headers.ts';
import { awaitVariants } from '../../serving/await-variants.ts';
import { SmallObjectCache } from '../../serving/object-cache.ts';
import { verifySignedQuery } from '../../serving/signed-urls.ts';
import { allowOrigin } from '../cors.ts';
import { SERVED_FILENAME } from '../names.ts';
import { clientGone } from '../request-body.ts';

interface Target {
  tenantId: string;
  bucket: string;
  filename: string;
  fileId: string;
  variant: VariantName | undefined;
}

function parseTarget(params: Request['params']): Target | undefined {
  const { tenantId, bucket, filename } = params;
  if (typeof tenantId !== 'string' || typeof bucket !== 'string' || typeof filename !== 'string')
    return undefined;
  if (!TENANT_ID.test(tenantId) || !BUCKET_NAME.test(bucket)) return undefined;
  const match = SERVED_FILENAME.exec(filename);
  if (!match) return undefined;
  return { tenantId, bucket, filename, fileId: match[1]!, variant: match[3] as VariantName | undefined };
}

/** Which object to send for a target, or an error: 404 for anything missing, 503 for a pending variant. */
function resolveObject(
  file: FileRecord,
  target: Target,
): { key: string; served: Omit<ServedFile, 'isPublic'>; size: number } {
  const common = { filename: target.filename, lastModified: file.createdAt };
  if (!target.variant) {
    if (target.filename !== file.key) throw fileNotFound();
    return {
      key: file.key,
      size: file.size,
      served: { ...common, mimetype: file.mimetype, etag: file.etag },
    };
  }
  const variant = file.variants[target.variant];
  if (variant?.status === 'ready' && variant.size !== undefined) {
    return {
      key: target.filename,
      size: variant.size,
      served: { ...common, mimetype: 'image/webp', etag: `"${file.id}-${target.variant}"` },
    };
  }
  if (file.variantStatus === 'pending') throw serviceUnavailable('The variant is still being generated', 2);
  throw fileNotFound();
}

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
    const target = parseTarget(req.params);
    const tenant = target && (await auth.tenant(target.tenantId));
    const file = tenant && target && (await getFileById(deps.pool, tenant.id, target.bucket, target.fileId));
    if (!target || !tenant || !file) throw fileNotFound();
    const signed =
      deps.config.signingSecret !== undefined &&
      verifySignedQuery(
        deps.config.signingSecret,
        { tenantId: tenant.id, bucket: target.bucket, fileId: file.id },
        req.query,
      );
    if (!file.allowPublicAccess && !signed) {
      const caller = await auth.identify(req);
      if (!caller || caller.tenantId !== tenant.id || !grants(caller.scopes, 'read')) throw fileNotFound();
      const origin = req.headers.origin;
      if (origin !== undefined) {
        // A key used from an origin it does not allow cannot see the file at all.
        if (!originAllowed(caller, origin)) throw fileNotFound();
        allowOrigin(res, origin);
      }
    }
    const current = target.variant ? await awaitVariants(deps.pool, file, VARIANT_WAIT_MS) : file;
    const { key, size, served } = resolveObject(current, target);
    const shown = { ...served, isPublic: file.allowPublicAccess };
    const headers = servingHeaders(shown);
    if (notModified(req.get('if-none-match'), req.get('if-modified-since'), shown)) {
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
      // The CORS answer the file itself would carry (a protected file's is on res already).
      const cors = headers['access-control-allow-origin'];
      res.status(307).set({
        location: url,
        'cache-control': 'private, no-store',
        ...(cors && { 'access-control-allow-origin': cors }),
      });
      res.end();
      return;
    }
    const range = requestedRange(req, size, served.etag);
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

/** A single satisfiable byte range to send, undefined for the whole file; 416 if unsatisfiable. */
function requestedRange(
  req: Request,
  size: number,
  etag: string,
): { start: number; end: number } | undefined {
  if (req.get('range') === undefined) return undefined;
  const ifRange = req.get('if-range');
  if (ifRange !== undefined && ifRange !== etag) return undefined;
  const ranges = req.range(size, { combine: true });
  if (ranges === -1) {
    throw rangeNotSatisfiable(size);
  }
  // Malformed or multiple ranges: the whole file is a valid answer.
  if (ranges === -2 || ranges === undefined || ranges.type !== 'bytes' || ranges.length !== 1)
    return undefined;
  return ranges[0];
}
