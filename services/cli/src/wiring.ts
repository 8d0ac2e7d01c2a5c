import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import {
  FilesystemObjectStore,
  S3ObjectStore,
  createApiMetrics,
  createLogger,
  createS3Client,
  migrate,
  startEmbeddedPostgres,
  type Config,
  type ObjectStore,
} from '@stowage/core';
import type { ApiDeps } from '@stowage/api';

/** The database: DATABASE_URL, or PGlite under the data directory when it is unset. */
export async function openDatabase(config: Config): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 20 });
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
  if (config.s3.endpoint || config.s3.credentials) return new S3ObjectStore(createS3Client(config.s3));
  return new FilesystemObjectStore(join(config.dataDir, 'objects'));
}

export function apiDeps(config: Config, pool: pg.Pool): ApiDeps {
  return {
    config,
    pool,
    store: openObjectStore(config),
    logger: createLogger({ name: 'stowage-api', level: config.logLevel }),
    metrics: createApiMetrics(),
  };
}
