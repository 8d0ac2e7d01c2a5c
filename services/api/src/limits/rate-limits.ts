import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { ApiMetrics, Logger } from '@stowage/core';

/**
 * What a limit counts: an API key's requests per route class, or per client address its downloads
 * (`serve`) and its requests with bad keys (`auth`).
 */
export type RouteClass = 'upload' | 'list' | 'delete' | 'usage' | 'serve' | 'auth';

const WINDOW_SECONDS = 60;

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the current window ends and the count starts again. */
  resetSeconds: number;
  /** The window's length in milliseconds. */
  intervalMs: number;
}

/**
 * Fixed one-minute windows per (route class, key), shared by every API replica through Redis. If Redis
 * cannot be reached, each process falls back to its own in-memory window of the same size (the
 * insurance limiter): requests keep being served and limited per process, and the shared limit comes
 * back by itself when Redis does. Without Redis at all (embedded mode) the in-memory limiter is the limit.
 */
export class RateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly redis: Redis | undefined,
    private readonly metrics: ApiMetrics,
  ) {}

  /** Counts one request against `limit` per minute for `key` in `routeClass`. */
  async consume(routeClass: RouteClass, key: string, limit: number): Promise<LimitDecision> {
    if (this.redis && this.redis.status !== 'ready') this.metrics.rateLimitFallbacks.inc();
    try {
      return decision(limit, await this.limiter(routeClass, limit).consume(key), true);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        this.metrics.rateLimited.inc({ class: routeClass });
        return decision(limit, rejection, false);
      }
      throw rejection;
    }
  }

  /** One limiter per class and size: the count lives under the key, the size only judges it. */
  private limiter(routeClass: RouteClass, points: number): RateLimiterAbstract {
    const id = `${routeClass}:${points}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const options = { keyPrefix: `stowage:rl:${routeClass}`, points, duration: WINDOW_SECONDS };
      limiter = this.redis
        ? new RateLimiterRedis({
            ...options,
            storeClient: this.redis,
            rejectIfRedisNotReady: true,
            insuranceLimiter: new RateLimiterMemory(options),
          })
        : new RateLimiterMemory(options);
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

function decision(limit: number, res: RateLimiterRes, allowed: boolean): LimitDecision {
  return {
    allowed,
    limit,
    remaining: Math.max(0, res.remainingPoints),
    resetSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    intervalMs: WINDOW_SECONDS * 1000,
  };
}

/** Reports Redis availability as a metric and in the logs, once per change. */
export function watchRedis(redis: Redis, metrics: ApiMetrics, logger: Logger): void {
  let up: boolean | undefined;
  const report = (now: boolean) => {
    if (up === now) return;
    up = now;
    metrics.rateLimitRedisUp.set(now ? 1 : 0);
    if (now) logger.info('rate limits: Redis reachable, limits are shared by every replica');
    else logger.warn('rate limits: Redis unreachable, each process limits on its own until it returns');
  };
  redis.on('ready', () => report(true));
  redis.on('error', () => report(false));
  redis.on('end', () => report(false));
  redis.on('close', () => report(false));
}
