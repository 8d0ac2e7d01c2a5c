import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import {
  ChangeFeed,
  FilesystemObjectStore,
  S3ObjectStore,
  createApiMetrics,
  createLogger,
  migrate,
  startEmbeddedPostgres,
  type Config,
  type ObjectStore,
} from '@stowage/core';
import { RowCache, watchRedis, type ApiDeps } from '@stowage/api';
import { Redis } from 'ioredis';

/** The database: DATABASE_URL, or PGlite under the data directory when it is unset. */
export async function openDatabase(config: Config): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 20 });
    // An idle connection the server cuts (a restart, a failover) is replaced on next use; without a
    // listener its error would end the process.
    pool.on('error', (err) => console.error(`database connection lost: ${err.message}`));
    return { pool, close: () => pool.end() };
  }
  const dir = join(config.dataDir, 'db');
  await mkdir(dir, { recursive: true });
  const embedded = await startEmbeddedPostgres(dir);
  await migrate(embedded.pool);
  return { pool: embedded.pool, close: () => embedded.stop() };
}

/** The object store: S3 when S3_ENDPOINT or credentials are set, else files under the data directory. */
export function openObjectStore(config: Config): ObjectStore {
  if (config.s3.endpoint || config.s3.credentials) return S3ObjectStore.fromConfig(config.s3);
  return new FilesystemObjectStore(join(config.dataDir, 'objects'));
}

/**
 * Redis for shared rate limits, when REDIS_URL is set. Commands fail at once while it is unreachable
 * (no offline queue), so the limiter falls back to its per-process insurance instead of waiting.
 */
function openRedis(config: Config): Redis | undefined {
  if (!config.redisUrl) return undefined;
  return new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

export function apiDeps(config: Config, pool: pg.Pool): ApiDeps {
  const logger = createLogger({ name: 'stowage-api', level: config.logLevel });
  const metrics = createApiMetrics();
  const redis = openRedis(config);
  if (redis) watchRedis(redis, metrics, logger);
  // The embedded database serves one process, the only writer: it needs no feed of changes.
  const feed = config.databaseUrl ? new ChangeFeed(config.databaseUrl) : undefined;
  const cache = new RowCache(pool, config.keyCacheTtlMs, feed);
  cache.listen(logger);
  return { config, pool, store: openObjectStore(config), logger, metrics, redis, cache };
}
