/**
 * The k6 load tests (load-tests/k6/), each with bounded duration and its own thresholds, against a stack
 * started here: a fresh PostgreSQL database, the launcher's Redis and MinIO, a `stowage worker`, and two
 * `stowage api` processes behind a round-robin proxy. Exits non-zero if any script fails its thresholds.
 *
 *   make load-test               # LOAD_TEST_DURATION=15s per script; LOAD_TEST_ONLY=mixed,uploads
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { S3ObjectStore, createS3Client, loadConfig } from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../test/support/databases.ts';
import { startCliServer, type CliProcess } from '../test/support/cli.ts';
import { s3Env } from '../test/support/operator.ts';
import { requireEnv } from '../test/support/env.ts';
import { provisionTenant } from '../test/support/tenant.ts';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.ts';

const duration = process.env.LOAD_TEST_DURATION ?? '15s';
const only = process.env.LOAD_TEST_ONLY?.split(',');
const run = randomBytes(3).toString('hex');
const generous = { upload: 1_000_000, list: 1_000_000, delete: 1_000_000, usage: 1_000_000 };

interface Script {
  name: string;
  tenant: Record<string, unknown>;
  env?: Record<string, string>;
}

const quotaRace = { quota: 1_000_000, file: 64 * 1024 };
const rateLimit = { list: 40, upload: 15 };

const scripts: Script[] = [
  { name: 'uploads', tenant: { rateLimits: generous } },
  { name: 'serve-public', tenant: { rateLimits: generous } },
  { name: 'serve-protected', tenant: { rateLimits: generous } },
  { name: 'mixed', tenant: { rateLimits: generous } },
  {
    name: 'rate-limit',
    tenant: {
      rateLimits: { ...generous, list: rateLimit.list, upload: rateLimit.upload },
      // Listed from the first request on, before any upload into it has landed.
      buckets: [{ name: 'any' }],
    },
    env: { LIST_LIMIT: String(rateLimit.list), UPLOAD_LIMIT: String(rateLimit.upload), DURATION: '10s' },
  },
  {
    name: 'quota-race',
    tenant: { rateLimits: generous, quota: { storage: quotaRace.quota } },
    env: { QUOTA_BYTES: String(quotaRace.quota), FILE_BYTES: String(quotaRace.file) },
  },
];

interface Stack {
  url: string;
  db: TestDatabase;
  store: S3ObjectStore;
  bucketPrefix: string;
}

/** A tenant of its own for one script, with one key holding every scope. */
async function createTenant(stack: Stack, name: string, spec: Record<string, unknown>) {
  const id = `load-${run}-${name}`;
  const storageBucket = `${stack.bucketPrefix}${id}`;
  const key = await provisionTenant(stack.db.pool, stack.store, {
    id,
    owner: 'load-test',
    storageBucket,
    spec,
  });
  return { id, key };
}

async function k6(script: Script, env: Record<string, string>): Promise<number> {
  const child = spawn(
    'k6',
    ['run', '--quiet', '--no-usage-report', resolve(import.meta.dirname, `k6/${script.name}.js`)],
    { env: { ...process.env, K6_NO_COLOR: 'true', DURATION: duration, ...env }, stdio: 'inherit' },
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}

async function startStack(cleanups: (() => Promise<void>)[]): Promise<Stack> {
  const db = await databaseBackends[0].create();
  cleanups.push(() => db.drop());
  const proxy: RoundRobinProxy = await startRoundRobinProxy();
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
  const processes: CliProcess[] = [];
  cleanups.push(() => Promise.all(processes.map((p) => p.stop())).then(() => {}));
  processes.push(await startCliServer('worker', env));
  for (let i = 0; i < 2; i++) {
    const api = await startCliServer('api', env);
    processes.push(api);
    proxy.backends.push(api.url);
  }
  const config = loadConfig({ ...process.env, ...env });
  const s3 = createS3Client(config.s3);
  cleanups.push(async () => s3.destroy());
  return { url: proxy.url, db, store: new S3ObjectStore(s3), bucketPrefix: config.s3.bucketPrefix };
}

async function main(): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  const failed: string[] = [];
  const started = performance.now();
  try {
    const stack = await startStack(cleanups);
    console.log(`stack: 2 API replicas and a worker behind ${stack.url}`);
    for (const script of scripts.filter((s) => !only || only.includes(s.name))) {
      const tenant = await createTenant(stack, script.name, script.tenant);
      const code = await k6(script, {
        STOWAGE_URL: stack.url,
        STOWAGE_KEY: tenant.key,
        STOWAGE_TENANT: tenant.id,
        ...script.env,
      });
      if (code !== 0) failed.push(`${script.name} (k6 exited ${code})`);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(err));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (failed.length) console.error(`\nload tests failed: ${failed.join(', ')} (${seconds} s)`);
  else console.log(`\nevery load test passed its thresholds (${seconds} s)`);
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
