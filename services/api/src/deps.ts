import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ApiMetrics, Config, Logger, ObjectStore } from '@stowage/core';
import type { RowCache } from './files/row-cache.ts';

/** Everything the API needs from outside, built once by the CLI and passed down. */
export interface ApiDeps {
  config: Config;
  pool: pg.Pool;
  store: ObjectStore;
  logger: Logger;
  metrics: ApiMetrics;
  /** Shares rate limits across replicas; without it each process limits on its own. */
  redis?: Redis | undefined;
  /** File rows and bucket settings kept in memory, forgotten when they change. */
  cache: RowCache;
}
