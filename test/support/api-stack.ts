import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { RowCache, startApi, type ApiDeps, type RunningApi } from '@stowage/api';
import {
  ChangeFeed,
  FilesystemObjectStore,
  S3ObjectStore,
  createApiMetrics,
  createLogger,
  createS3Client,
  loadConfig,
  mintKey,
  type Config,
  type KeyMode,
  type ObjectStore,
  type Scope,
} from '@stowage/core';
// Test-only knowledge of how the filesystem store names unfinished writes.
import { incomingPrefix } from '../../services/core/src/object-store/filesystem-store.ts';
import { watchApi } from './contract.ts';
import { databaseBackends, type TestDatabase } from './databases.ts';
import { uniqueName } from './env.ts';
import { provisionTenant } from './tenant.ts';

export interface TestTenant {
  id: string;
  storageBucket: string;
  /** A live key with every scope. */
  key: string;
  /** A key of the tenant: live unless `mode` says test. */
  mintKey(scopes: Scope[], options?: { allowedOrigins?: string[]; mode?: KeyMode }): Promise<string>;
}

/** A running API on one database and object store, in this process, on free ports. */
export interface ApiStack {
  url: string;
  deps: ApiDeps;
  api: RunningApi;
  db: TestDatabase;
  store: ObjectStore;
  createTenant(spec?: Record<string, unknown>): Promise<TestTenant>;
  /** Everything in a store bucket, unfinished writes included (as `incoming:<name>`), read behind the store's back. */
  storedObjects(storageBucket: string): Promise<string[]>;
  /** Leaves an unfinished write of `key`, as a writer that crashed would. */
  leaveStaleUpload(storageBucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

interface Backend {
  store: ObjectStore;
  /** Changes announced by the database, which the API's cache listens to (none for PGlite). */
  feed?: ChangeFeed | undefined;
  storedObjects(storageBucket: string): Promise<string[]>;
  leaveStaleUpload(storageBucket: string, key: string): Promise<void>;
  cleanup(): Promise<void>;
}

async function startStack(db: TestDatabase, config: Config, backend: Backend): Promise<ApiStack> {
  const { store } = backend;
  const logger = createLogger({ name: 'stowage-api-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const cache = new RowCache(db.pool, config.keyCacheTtlMs, backend.feed);
  cache.listen(logger);
  const deps: ApiDeps = { config, pool: db.pool, store, logger, metrics: createApiMetrics(), cache };
  const api = await startApi(deps);
  const unwatch = await watchApi(api.url);
  return {
    url: api.url,
    deps,
    api,
    db,
    store,
    async createTenant(spec = {}) {
      const id = uniqueName('t');
      const storageBucket = `${config.s3.bucketPrefix}${id}`;
      const key = await provisionTenant(db.pool, store, { id, owner: 'test', storageBucket, spec });
      const mint: TestTenant['mintKey'] = async (scopes, { allowedOrigins, mode = 'live' } = {}) =>
        (await mintKey(db.pool, { tenantId: id, name: uniqueName('k'), scopes, mode, allowedOrigins })).raw;
      return { id, storageBucket, key, mintKey: mint };
    },
    storedObjects: (bucket) => backend.storedObjects(bucket),
    leaveStaleUpload: (bucket, key) => backend.leaveStaleUpload(bucket, key),
    async close() {
      unwatch();
      await api.close();
      await cache.close();
      await db.drop();
      await backend.cleanup();
    },
  };
}

/** The test defaults over `env`; a suite's own `settings` win over both (e.g. a PORT and a PUBLIC_URL on it). */
function testConfig(env: NodeJS.ProcessEnv, settings: NodeJS.ProcessEnv): Config {
  return loadConfig({
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    PUBLIC_URL: 'http://files.test',
    SIGNING_SECRET: 'test-signing-secret-of-at-least-32-characters',
    ...settings,
  });
}

/** What a process that died mid-put leaves in S3: a multipart upload with a part and no completion. */
export async function leaveStaleMultipartUpload(s3: S3Client, Bucket: string, Key: string): Promise<void> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024) }));
}

/** Real PostgreSQL and MinIO from the test environment; `env` adds settings. */
async function realStack(env: NodeJS.ProcessEnv = {}): Promise<ApiStack> {
  const config = testConfig(process.env, env);
  const s3 = createS3Client(config.s3);
  const db = await databaseBackends[0].create();
  return startStack(db, config, {
    store: S3ObjectStore.fromConfig(config.s3, s3),
    feed: new ChangeFeed(db.url),
    async storedObjects(bucket) {
      const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return [
        ...(objects.Contents ?? []).map((o) => o.Key!),
        ...(uploads.Uploads ?? []).map((u) => `incoming:${u.Key!}`),
      ];
    },
    leaveStaleUpload: (bucket, key) => leaveStaleMultipartUpload(s3, bucket, key),
    cleanup: async () => s3.destroy(),
  });
}

/** The embedded defaults: PGlite and the filesystem store, no S3 settings at all. */
async function embeddedStack(env: NodeJS.ProcessEnv = {}): Promise<ApiStack> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-api-test-'));
  const config = testConfig({}, { ...env, STOWAGE_DATA_DIR: dir });
  const root = join(dir, 'objects');
  return startStack(await databaseBackends[1].create(), config, {
    store: new FilesystemObjectStore(root),
    async storedObjects(bucket) {
      const files = (sub: string) =>
        readdir(join(root, bucket, sub), { recursive: true, withFileTypes: true }).then((entries) =>
          entries
            .filter((e) => e.isFile())
            .map((e) => relative(join(root, bucket, sub), join(e.parentPath, e.name))),
        );
      return [...(await files('objects')), ...(await files('.incoming')).map((f) => `incoming:${f}`)];
    },
    leaveStaleUpload: (bucket, key) =>
      writeFile(join(root, bucket, '.incoming', `${incomingPrefix(key)}crashed`), 'partial'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  });
}

export const realBackend = { name: 'PostgreSQL + MinIO', create: realStack } as const;
export const embeddedBackend = { name: 'embedded (PGlite + filesystem)', create: embeddedStack } as const;

/**
 * The backends that suites covering both run against: both, or only the embedded one when
 * STOWAGE_TEST_BACKENDS=embedded (`make test-fast`, which starts no servers).
 */
export const stackBackends =
  process.env.STOWAGE_TEST_BACKENDS === 'embedded' ? [embeddedBackend] : [realBackend, embeddedBackend];
