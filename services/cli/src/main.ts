#!/usr/bin/env node
/**
 * The `stowage` binary: one image runs every component.
 *
 *   stowage api       the REST API (DATABASE_URL and S3_* for real infrastructure)
 *   stowage worker    the image worker and webhook delivery (DATABASE_URL, REDIS_URL, S3_*)
 *   stowage operator  reconciles StorageTenants (DATABASE_URL, S3_*, and a kubeconfig or in-cluster account)
 *   stowage migrate   apply database migrations and exit
 *   stowage check     compare the database with the object store; --repair fixes what is safe to fix
 *   stowage dev       the whole platform in one process on embedded defaults
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startApi, type ApiDeps, type RunningApi } from '@stowage/api';
import {
  ConfigError,
  createLogger,
  createOperatorMetrics,
  createWebhookMetrics,
  createWorkerMetrics,
  latestCheck,
  loadConfig,
  migrate,
  serveMetrics,
  type Config,
} from '@stowage/core';
import pg from 'pg';
import { runCheck } from './check-command.ts';
import { devSigningSecret } from './dev-signing-secret.ts';
import { apiDeps, openDatabase, openObjectStore } from './wiring.ts';

const defaultTenantsDir = resolve(import.meta.dirname, '../tenants');

/** On SIGINT/SIGTERM: runs `stop` once, then exits 0, or 1 if it failed. */
function onShutdown(stop: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** On SIGINT/SIGTERM: stop taking requests, finish those in flight, close connections, exit. */
function stopOnSignal(
  api: RunningApi,
  deps: ApiDeps,
  db: { close(): Promise<void> },
  stopWorkers: () => Promise<void> = async () => {},
): void {
  onShutdown(async () => {
    deps.logger.info(
      { delayMs: deps.config.http.shutdownDelayMs },
      'stopping: answering with Connection: close',
    );
    await api.close();
    await stopWorkers();
    deps.redis?.disconnect();
    await deps.cache.close();
    await db.close();
  });
}

async function runMigrate(config: Config): Promise<void> {
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for migrate');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  try {
    const applied = await migrate(pool);
    console.log(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await pool.end();
  }
}

async function runApi(config: Config): Promise<void> {
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required for api (use `stowage dev` for embedded mode)');
  const db = await openDatabase(config);
  const deps = apiDeps(config, db.pool);
  const api = await startApi(deps);
  deps.logger.info({ url: api.url, metrics: api.metricsUrl }, 'stowage-api listening');
  stopOnSignal(api, deps, db);
}

// The image worker (sharp, libvips) and the operator (the Kubernetes client) are imported by the commands
// that run them: loaded into every process they cost `stowage api` about 55 MiB of resident memory it never used.

async function runDev(settings: Config): Promise<void> {
  const [{ startInProcessVariants, startWebhookDelivery }, { provisionDevTenants, readTenantFolder }] =
    await Promise.all([import('@stowage/image-worker'), import('./dev-tenants.ts')]);
  await mkdir(settings.dataDir, { recursive: true });
  const config = {
    ...settings,
    signingSecret: settings.signingSecret ?? (await devSigningSecret(settings.dataDir)),
    // A developer's webhook receiver runs on their own machine: dev mode may reach it unless told not to.
    webhooks: {
      ...settings.webhooks,
      allowPrivateNetworks: process.env.WEBHOOK_ALLOW_PRIVATE_NETWORKS
        ? settings.webhooks.allowPrivateNetworks
        : true,
    },
  };
  const db = await openDatabase(config);
  if (config.databaseUrl) await migrate(db.pool);
  const deps = apiDeps(config, db.pool);
  const tenants = await readTenantFolder(process.env.STOWAGE_TENANTS_DIR ?? defaultTenantsDir);
  const provision = { pool: db.pool, store: deps.store, keyGraceMs: config.operator.keyRotationGraceMs };
  const { keys, removed, webhooks } = await provisionDevTenants(provision, tenants, {
    dataDir: config.dataDir,
    bucketPrefix: config.s3.bucketPrefix,
  });
  const api = await startApi(deps);
  const stopVariants = startInProcessVariants({ ...deps, limits: config.variants });
  const stopWebhooks = startWebhookDelivery(
    { pool: db.pool, logger: deps.logger, metrics: createWebhookMetrics(deps.metrics.registry) },
    config.webhooks,
  );
  const base = config.http.publicUrl;
  console.log(
    `\nStowage is running at ${base}  (metrics: ${api.metricsUrl}, data: ${resolve(config.dataDir)})\n`,
  );
  for (const key of keys) console.log(`  tenant ${key.tenantId}, key "${key.name}":  ${key.raw}`);
  for (const gone of removed) {
    const data =
      gone.deletionPolicy === 'Delete'
        ? 'its files and records deleted'
        : 'its files kept (deletionPolicy: Retain)';
    console.log(`  tenant ${gone.tenantId} (${gone.file} was removed): keys revoked, ${data}`);
  }
  for (const hook of webhooks) {
    console.log(
      `  tenant ${hook.tenantId}, webhooks ${hook.webhooks.join(', ')}: signed with ${hook.secret}`,
    );
  }
  if (keys.some((key) => key.raw.startsWith('stw_test_'))) {
    console.log(
      `\n  Files uploaded with live keys (stw_live_) are kept. Those of test keys (stw_test_) live in a sandbox\n` +
        `  only test keys see, with a quota of their own, and are deleted ${config.testFileTtlSeconds} s after upload (TEST_FILE_TTL).`,
    );
  }
  const first = keys[0];
  if (first) {
    console.log(
      `\nTry it:\n  curl -X POST ${base}/upload/photos -H "x-api-key: ${first.raw}" -F "file=@photo.jpg"\n`,
    );
  }
  stopOnSignal(api, deps, db, async () => {
    await Promise.all([stopVariants(), stopWebhooks()]);
  });
}

/**
 * The image worker. libvips runs on libuv's thread pool: set UV_THREADPOOL_SIZE to about the cores
 * available, and MALLOC_ARENA_MAX=2 to keep glibc from growing memory per thread (see README).
 */
async function runWorker(config: Config): Promise<void> {
  if (!config.databaseUrl || !config.redisUrl) {
    throw new ConfigError('DATABASE_URL and REDIS_URL are required for worker');
  }
  const { startQueueWorker, startWebhookDelivery } = await import('@stowage/image-worker');
  const db = await openDatabase(config);
  const logger = createLogger({ name: 'stowage-image-worker', level: config.logLevel });
  const metrics = createWorkerMetrics();
  const stopVariants = startQueueWorker(
    { pool: db.pool, store: openObjectStore(config), logger, metrics, limits: config.variants },
    {
      redisUrl: config.redisUrl,
      prefix: config.worker.queuePrefix,
      concurrency: config.worker.concurrency,
      lockMs: config.worker.lockMs,
    },
  );
  // Webhooks go out from the database outbox, so they need no Redis and survive its outages.
  const stopWebhooks = startWebhookDelivery(
    { pool: db.pool, logger, metrics: metrics.webhooks },
    config.webhooks,
  );
  const served = await serveMetrics(metrics.registry, config.http.metricsPort, config.http.host);
  logger.info(
    { metrics: served.url, concurrency: config.worker.concurrency },
    'stowage-image-worker running',
  );
  // In-flight jobs finish; the rest stay queued for other workers.
  onShutdown(async () => {
    await Promise.all([stopVariants(), stopWebhooks()]);
    await db.close();
  });
}

/** The operator. Only the process holding the Lease reconciles; one that loses it exits to rejoin. */
async function runOperator(config: Config): Promise<void> {
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for operator');
  const { PooledKubeConfig, startOperator } = await import('@stowage/operator');
  const db = await openDatabase(config);
  const kubeConfig = new PooledKubeConfig();
  kubeConfig.loadFromDefault();
  const operator = await startOperator({
    config,
    kubeConfig,
    pool: db.pool,
    store: openObjectStore(config),
    logger: createLogger({ name: 'stowage-operator', level: config.logLevel }),
    metrics: createOperatorMetrics(() => latestCheck(db.pool)),
  });
  void operator.lost.then(() => process.exit(1));
  onShutdown(async () => {
    await operator.stop();
    await db.close();
  });
}

const commands: Record<string, (config: Config) => Promise<void>> = {
  api: runApi,
  worker: runWorker,
  migrate: runMigrate,
  dev: runDev,
  operator: runOperator,
};

// `check` reads arguments of its own and has exit codes of its own (findings are not a failure).
if (process.argv[2] === 'check') process.exit(await runCheck(process.argv.slice(3)));
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error('usage: stowage <api|worker|operator|migrate|check|dev>');
  process.exit(2);
}
try {
  await command(loadConfig());
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
