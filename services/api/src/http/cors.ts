import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { forbidden, knownOrigins } from '@stowage/core';
import { TtlCache } from '../auth/ttl-cache.ts';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, OPTIONS';
const ALLOWED_HEADERS =
  'x-api-key, authorization, content-type, range, if-none-match, if-modified-since, x-request-id';
const EXPOSED_HEADERS =
  'x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after, content-range, etag';

/** Lets a browser page at `origin` read this response. */
export function allowOrigin(res: Response, origin: string): void {
  res.vary('Origin');
  res.set({ 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS });
}

/**
 * Answers CORS preflights. A preflight carries no API key, so it cannot know whose origin list applies:
 * it is answered for any origin that some tenant or key allows. The real request is then checked
 * against its own key's list (403 FORBIDDEN otherwise), which is where the decision is made.
 */
export function corsPreflight(pool: pg.Pool) {
  const cache = new TtlCache<{ anyOrigin: boolean; origins: string[] }>(5000, 1);
  return async (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (req.method !== 'OPTIONS' || origin === undefined) return next();
    const known = await cache.getOrLoad('origins', () => knownOrigins(pool));
    if (!known.anyOrigin && !known.origins.includes(origin)) throw forbidden('Origin not allowed');
    allowOrigin(res, origin);
    res.set({
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    });
    res.status(204).end();
  };
}
