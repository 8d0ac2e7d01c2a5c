import type { NextFunction, Request, Response } from 'express';
import { rateLimitExceeded } from '@stowage/core';
import { callerOf } from '../http/caller.ts';
import type { LimitDecision, RateLimits, RouteClass } from './rate-limits.ts';

function headers(d: LimitDecision): Record<string, string> {
  return {
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': String(d.remaining),
    'x-ratelimit-reset': String(d.resetSeconds),
    'x-ratelimit-interval': String(d.intervalMs),
  };
}

async function apply(limits: RateLimits, routeClass: RouteClass, key: string, limit: number, res: Response) {
  const d = await limits.consume(routeClass, key, limit);
  res.set(headers(d));
  if (!d.allowed) {
    throw rateLimitExceeded({ ...headers(d), 'retry-after': String(d.resetSeconds) });
  }
}

export type KeyedClass = Exclude<RouteClass, 'serve' | 'auth'>;

/** Limits an authenticated route per API key, at the caller's tenant's limit for the class. */
export function limitPerKey(limits: RateLimits, routeClass: KeyedClass) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(res);
    await apply(limits, routeClass, caller.keyId, caller.tenant.rateLimits[routeClass], res);
    next();
  };
}

/** Limits file serving per client address (behind an ingress, from X-Forwarded-For per TRUST_PROXY). */
export function limitPerClient(limits: RateLimits, perMinute: number) {
  return async (req: Request, res: Response, next: NextFunction) => {
    await apply(limits, 'serve', req.ip ?? 'unknown', perMinute, res);
    next();
  };
}

/**
 * Counts a request whose key failed against its client address; past `perMinute` it is refused with 429
 * instead of 401. Anyone can make well-formed keys, and each unknown one costs a database lookup.
 */
export async function limitFailedAuth(limits: RateLimits, perMinute: number, req: Request, res: Response) {
  await apply(limits, 'auth', req.ip ?? 'unknown', perMinute, res);
}
