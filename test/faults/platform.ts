import type { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import {
  S3ObjectStore,
  createS3Client,
  loadConfig,
  migrate,
  mintKey,
  type KeyMode,
  type ObjectStore,
} from '@stowage/core';
import type { RestartableServer } from '../../scripts/test-env/servers.ts';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { uniqueName } from '../support/env.ts';
import { createNamespace, deleteNamespace, installStorageTenantCrd } from '../support/kube.ts';
import { OperatorHarness, TenantApi } from '../support/operator.ts';
import { startOwnServers, type OwnServers, type ServerName } from '../support/own-servers.ts';
import { provisionTenant } from '../support/tenant.ts';

/** A Stowage process the suite can kill and start again; `current` is undefined while it is down. */
export class Slot {
  current: CliServer | undefined;
  /** Where it listens, or listened before it was killed (and refuses connections now). */
  url = '';
  /** Why it exited when nobody killed it: a process must ride out a dependency's outage. */
  readonly unexpectedExits: string[] = [];
  restarts = 0;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<CliServer>,
  ) {}

  async start(): Promise<void> {
    const server = await this.launch();
    server.child.once('exit', (code, signal) => {
      if (this.current === server)
        this.unexpectedExits.push(
          `${this.name} exited (${code ?? signal}):\n${server.output().slice(-3000)}`,
        );
    });
    this.current = server;
    this.url = server.url;
  }

  async kill(): Promise<void> {
    const server = this.current;
    if (!server) return;
    this.current = undefined;
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGKILL');
    await exited;
    await server.stop(); // only stops checking its responses against the document
  }

  async restart(): Promise<void> {
    await this.start();
    this.restarts++;
  }

  async stop(): Promise<void> {
    const server = this.current;
    this.current = undefined;
    await server?.stop();
  }
}

export interface FaultTenant {
  id: string;
  storageBucket: string;
  keys: Record<KeyMode, string>;
}

/**
 * Everything the fault suite runs, all its own: PostgreSQL, Redis and MinIO on free ports (so that
 * stopping them disturbs no other suite), two `stowage api`, two `stowage worker` and a `stowage
 * operator` (on the shared kube-apiserver, in a namespace of its own) as real processes.
 */
export class Platform {
  readonly servers: Record<ServerName, RestartableServer>;
  readonly apis: Slot[];
  readonly workers: Slot[];
  readonly operator: Slot;
  readonly pool: pg.Pool;
  readonly s3: S3Client;
  readonly store: ObjectStore;
  readonly tenants: FaultTenant[] = [];
  readonly storageTenants: TenantApi;

  private constructor(private readonly own: OwnServers<ServerName>) {
    this.servers = own.servers;
    const { settings } = own;
    this.pool = new pg.Pool({ connectionString: settings.DATABASE_URL, max: 4 });
    this.pool.on('error', () => {}); // idle connections are cut by the PostgreSQL outages
    const { s3 } = loadConfig(settings);
    this.s3 = createS3Client(s3);
    this.store = S3ObjectStore.fromConfig(s3, this.s3);
    const env = {
      ...settings,
      SIGNING_SECRET: 'fault-suite-signing-secret-of-32-characters',
      // A killed writer's reservation is released within seconds, not a minute and a half.
      UPLOAD_RESERVATION_TTL_SECONDS: '3',
      SWEEP_INTERVAL_SECONDS: '1',
      WORKER_LOCK_MS: '2000',
      WORKER_CONCURRENCY: '1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    };
    // Several processes start at once on a busy machine (and a killed one while the others serve).
    const options = { startDeadlineMs: 180_000 };
    this.apis = [0, 1].map((i) => new Slot(`api ${i}`, () => startCliServer('api', env, options)));
    this.workers = [0, 1].map((i) => new Slot(`worker ${i}`, () => startCliServer('worker', env, options)));
    const namespace = uniqueName('faults');
    this.storageTenants = new TenantApi(namespace);
    const harness = new OperatorHarness({
      namespace,
      databaseUrl: settings.DATABASE_URL!,
      publicUrl: 'https://files.faults.test',
      env: { ...env, LOG_LEVEL: 'warn' },
      startDeadlineMs: options.startDeadlineMs,
    });
    this.operator = new Slot('operator', () => harness.start());
  }

  static async start(): Promise<Platform> {
    const platform = new Platform(await startOwnServers(['postgres', 'redis', 'minio']));
    await migrate(platform.pool);
    await installStorageTenantCrd();
    await createNamespace(platform.storageTenants.namespace);
    for (const _ of [0, 1]) await platform.addTenant();
    await Promise.all([...platform.apis, ...platform.workers, platform.operator].map((slot) => slot.start()));
    return platform;
  }

  private async addTenant(): Promise<void> {
    const id = uniqueName('f');
    const storageBucket = `stowage-${id}`;
    const many = 1_000_000;
    const live = await provisionTenant(this.pool, this.store, {
      id,
      owner: 'faults',
      storageBucket,
      spec: { rateLimits: { upload: many, list: many, delete: many, usage: many } },
    });
    const test = await mintKey(this.pool, {
      tenantId: id,
      name: 'test',
      scopes: ['read', 'write'],
      mode: 'test',
    });
    this.tenants.push({ id, storageBucket, keys: { live, test: test.raw } });
  }

  /** Every process that exited without being killed. */
  unexpectedExits(): string[] {
    return this.slots().flatMap((slot) => slot.unexpectedExits);
  }

  slots(): Slot[] {
    return [...this.apis, ...this.workers, this.operator];
  }

  async close(): Promise<void> {
    await Promise.all(this.slots().map((slot) => slot.stop()));
    await this.pool.end();
    this.s3.destroy();
    await deleteNamespace(this.storageTenants.namespace);
    await this.own.close();
  }
}
