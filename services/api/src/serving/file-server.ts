import type { Readable } from 'node:stream';
import { fileNotFound, objectKeyOf } from '@stowage/core';
import type { Authenticator } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';
import { admit, type Credentials } from './admit.ts';
import { awaitVariants } from './await-variants.ts';
import { byteRange } from './byte-range.ts';
import { notModified } from './conditional.ts';
import { SmallObjectCache } from './object-cache.ts';
import { resolveObject, type ResolvedObject } from './resolve-object.ts';
import { isActive, servingHeaders } from './serving-headers.ts';
import { parseServeTarget } from './serve-target.ts';

/** A request for a file, as HTTP put it. */
export interface ServeRequest {
  method: 'GET' | 'HEAD';
  path: { tenantId: string; bucket: string; filename: string };
  credentials: Credentials;
  conditions: {
    range?: string | undefined;
    ifRange?: string | undefined;
    ifNoneMatch?: string | undefined;
    ifModifiedSince?: string | undefined;
  };
  /** Aborted when the client goes away, which stops reading from the store. */
  signal: AbortSignal;
}

/** What to answer: 304, a redirect to the store, or the file (its bytes, unless it is a HEAD). */
export interface ServeAnswer {
  status: 200 | 206 | 304 | 307;
  headers: Record<string, string>;
  /** Kept in memory, or streamed from the store (fetched before answering, so a failure is still clean). */
  body?: Buffer | Readable;
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

interface Location {
  bucket: string;
  key: string;
}

/** Serves stored files: who may see them, and which bytes, headers and status answer a request. */
export class FileServer {
  private readonly cache: SmallObjectCache;

  constructor(
    private readonly deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'cache'>,
    private readonly tenants: Pick<Authenticator, 'tenant'>,
  ) {
    this.cache = new SmallObjectCache(deps.store, {
      maxBytes: deps.config.serveCacheBytes,
      maxObjectBytes: SMALL_OBJECT_BYTES,
    });
  }

  /** The answer to a request for a file; 404 for anything it may not see or that does not exist. */
  async serve(request: ServeRequest): Promise<ServeAnswer> {
    const { target, tenant, file } = await this.find(request.path);
    const cors = await admit(file, request.credentials, this.deps.config.signingSecret);
    const current = target.variant ? await awaitVariants(this.deps.pool, file, VARIANT_WAIT_MS) : file;
    const object = resolveObject(current, target);
    const headers = {
      ...servingHeaders({ ...object, filename: target.filename, isPublic: file.allowPublicAccess }),
      ...cors,
    };
    if (notModified(request.conditions, object)) {
      // A 304 has no body, so nothing to describe the type of (RFC 9110 §15.4.5).
      const { 'content-type': _type, ...unchanged } = headers;
      return { status: 304, headers: unchanged };
    }
    const location = { bucket: tenant.storageBucket, key: objectKeyOf(target.bucket, object.key) };
    const url = await this.redirectUrl(object, location, headers);
    if (url) {
      // The store's answer carries the file's own headers; the redirect carries its CORS answer.
      return { status: 307, headers: { location: url, 'cache-control': 'private, no-store', ...cors } };
    }
    return this.bytes(request, location, object, headers);
  }

  private async find(path: ServeRequest['path']) {
    const target = parseServeTarget(path);
    const tenant = target && (await this.tenants.tenant(target.tenantId));
    const file = tenant && target && (await this.deps.cache.file(tenant.id, target.bucket, target.fileId));
    if (!target || !tenant || !file) throw fileNotFound();
    return { target, tenant, file };
  }

  /** The file, or the requested range of it: from memory, streamed from the store, or (HEAD) neither. */
  private async bytes(
    request: ServeRequest,
    location: Location,
    object: ResolvedObject,
    headers: Record<string, string>,
  ): Promise<ServeAnswer> {
    const range = byteRange(request.conditions, object.size, object.etag);
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
    headers['content-length'] = String(range ? range.end - range.start + 1 : object.size);
    const status = range ? 206 : 200;
    if (request.method === 'HEAD') {
      // The same answer a GET would give, without fetching the bytes.
      if (!this.cache.holds(location) && !(await this.deps.store.head(location))) throw fileNotFound();
      return { status, headers };
    }
    const kept = await this.cache.get(location, object.size);
    if (kept) return { status, headers, body: range ? kept.subarray(range.start, range.end + 1) : kept };
    const stored = await this.deps.store.get({
      ...location,
      ...(range && { range }),
      signal: request.signal,
    });
    return { status, headers, body: stored.body };
  }

  /**
   * A presigned URL that fetches a large file straight from the store, with the headers we would send;
   * undefined to stream it ourselves: a small file, active content, or a store that cannot presign.
   */
  private async redirectUrl(
    object: ResolvedObject,
    location: Location,
    headers: Record<string, string>,
  ): Promise<string | undefined> {
    const from = this.deps.config.downloadRedirectBytes;
    const { store } = this.deps;
    if (!store.presignGet || from === undefined || object.size < from || isActive(object.mimetype)) {
      return undefined;
    }
    return store.presignGet({
      ...location,
      expiresInSeconds: REDIRECT_URL_SECONDS,
      contentType: headers['content-type']!,
      cacheControl: headers['cache-control']!,
    });
  }
}
