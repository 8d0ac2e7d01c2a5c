import type { NextFunction, Request, Response } from 'express';
import type pg from 'pg';
import { forbidden, knownOrigins } from '@stowage/core';
import { corsHeaders } from '../auth/cors-headers.ts';
import { TtlCache } from '../auth/ttl-cache.ts';

/** Answers CORS preflights, for the origins that `corsHeaders` lets through. */
export function corsPreflight(pool: pg.Pool) {
  const cache = new TtlCache<{ anyOrigin: boolean; origins: string[] }>(5000, 1);
  return async (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (req.method !== 'OPTIONS' || origin === undefined) return next();
    const known = await cache.getOrLoad('origins', () => knownOrigins(pool));
    const headers = corsHeaders({ by: 'preflight', known }, origin);
    if (!headers) throw forbidden('Origin not allowed');
    res.status(204).set(headers).end();
  };
}
