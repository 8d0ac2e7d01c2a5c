import type { ApiDeps } from '../deps.ts';

/** A valid bucket name no tenant can have (tenant ids have no dots); asking for it proves the store answers. */
const PROBE_BUCKET = 'stowage-readiness.probe';

/** How long a dependency may take to answer before it counts as failing. */
const CHECK_TIMEOUT_MS = 2000;

export interface Readiness {
  /** Dependencies that did not answer: while any does, the process should get no traffic. */
  failing: ('database' | 'objectStore')[];
  /**
   * Dependencies that are down without making the process unready: without Redis the API still serves,
   * with rate limits per process (taking every replica out of service would be worse).
   */
  degraded: 'redis'[];
}

/** Asks the database and the object store whether they answer, and looks at Redis's connection. */
export async function checkReadiness(deps: Pick<ApiDeps, 'pool' | 'store' | 'redis'>): Promise<Readiness> {
  const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
  const checks = {
    database: deps.pool.query('SELECT 1').then(() => true),
    objectStore: deps.store.bucketExists(PROBE_BUCKET, { signal }).then(() => true),
  };
  const results = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name as keyof typeof checks, await check.catch(() => false)] as const,
    ),
  );
  return {
    failing: results.filter(([, ok]) => !ok).map(([name]) => name),
    degraded: deps.redis && deps.redis.status !== 'ready' ? ['redis'] : [],
  };
}
