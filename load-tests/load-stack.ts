import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { S3ObjectStore, createS3Client, loadConfig } from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../test/support/databases.ts';
import { startCliServer, type CliOptions, type CliServer } from '../test/support/cli.ts';
import { s3Env } from '../test/support/operator.ts';
import { requireEnv } from '../test/support/env.ts';
import { provisionTenant } from '../test/support/tenant.ts';
import { startRoundRobinProxy } from './round-robin-proxy.ts';

/** Rate limits no load script reaches unless it means to. */
export const generous = { upload: 1_000_000, list: 1_000_000, delete: 1_000_000, usage: 1_000_000 };

/** A fresh database, a `stowage worker` and two `stowage api` replicas behind a round-robin proxy. */
export interface LoadStack {
  /** The proxy: where k6 sends its requests. */
  url: string;
  db: TestDatabase;
  store: S3ObjectStore;
  bucketPrefix: string;
  /** Names this run's tenants and queue, so runs on one set of servers never meet. */
  run: string;
  apis: CliServer[];
  worker: CliServer;
}

/**
 * Starts the stack on the test environment's PostgreSQL, Redis and MinIO; `cleanups` receives what
 * stops each part, in start order (run them in reverse), including those of a start that failed half-way.
 */
export async function startLoadStack(
  cleanups: (() => Promise<void>)[],
  options: CliOptions = {},
): Promise<LoadStack> {
  const run = randomBytes(3).toString('hex');
  const db = await databaseBackends[0].create();
  cleanups.push(() => db.drop());
  const proxy = await startRoundRobinProxy();
  cleanups.push(() => proxy.close());
  const env = {
    ...s3Env(),
    DATABASE_URL: db.url,
    REDIS_URL: requireEnv('REDIS_URL'),
    PUBLIC_URL: proxy.url,
    SIGNING_SECRET: randomBytes(24).toString('hex'),
    SERVE_RATE_LIMIT: '1000000',
    QUEUE_PREFIX: `load-${run}`,
    LOG_LEVEL: 'warn',
  };
  const processes: CliServer[] = [];
  cleanups.push(() => Promise.all(processes.map((p) => p.stop())).then(() => {}));
  const worker = await startCliServer('worker', env, options);
  processes.push(worker);
  const apis: CliServer[] = [];
  for (let i = 0; i < 2; i++) {
    const api = await startCliServer('api', env, options);
    processes.push(api);
    apis.push(api);
    proxy.backends.push(api.url);
  }
  const config = loadConfig({ ...process.env, ...env });
  const s3 = createS3Client(config.s3);
  cleanups.push(async () => s3.destroy());
  const store = new S3ObjectStore(s3);
  return { url: proxy.url, db, store, bucketPrefix: config.s3.bucketPrefix, run, apis, worker };
}

/** A tenant of its own for one script, with one key holding every scope. */
export async function createTenant(stack: LoadStack, name: string, spec: Record<string, unknown>) {
  const id = `load-${stack.run}-${name}`;
  const storageBucket = `${stack.bucketPrefix}${id}`;
  const key = await provisionTenant(stack.db.pool, stack.store, {
    id,
    owner: 'load-test',
    storageBucket,
    spec,
  });
  return { id, key };
}

/**
 * Runs `load-tests/k6/<script>.js` to the end, or until `signal` aborts it; resolves to k6's exit code
 * (99: thresholds crossed).
 */
export async function runK6(
  script: string,
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<number> {
  const child = spawn(
    'k6',
    ['run', '--quiet', '--no-usage-report', resolve(import.meta.dirname, `k6/${script}.js`)],
    { env: { ...process.env, K6_NO_COLOR: 'true', ...env }, stdio: 'inherit', signal },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}
