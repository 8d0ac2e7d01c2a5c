import type { Request, Response } from 'express';
import type { ApiDeps } from '../../deps.ts';

/** GET /healthz — the process is up. */
export function liveness(_req: Request, res: Response) {
  res.json({ status: 'ok' });
}

/** A valid bucket name no tenant can have (tenant ids have no dots); asking for it proves the store answers. */
const PROBE_BUCKET = 'stowage-readiness.probe';

/**
 * GET /readyz — 200 when the database and the object store answer, else 503 naming those that do not.
 * Redis is reported as `degraded` but does not make the process unready: without it the API still
 * serves, with rate limits per process (taking every replica out of service would be worse).
 */
export function readiness(deps: ApiDeps) {
  return async (_req: Request, res: Response) => {
    const signal = AbortSignal.timeout(2000);
    const checks = {
      database: deps.pool.query('SELECT 1').then(() => true),
      objectStore: deps.store.bucketExists(PROBE_BUCKET, { signal }).then(() => true),
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await check.catch(() => false)] as const),
    );
    const failing = results.filter(([, ok]) => !ok).map(([name]) => name);
    const degraded = deps.redis && deps.redis.status !== 'ready' ? ['redis'] : [];
    res
      .status(failing.length ? 503 : 200)
      .json({ status: failing.length ? 'unavailable' : 'ok', failing, degraded });
  };
}
