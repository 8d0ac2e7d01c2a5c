import { execFileSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { S3ObjectStore, createS3Client, loadConfig, migrate } from '@stowage/core';
import { startCliServer, type CliServer } from '../../test/support/cli.ts';
import { requireEnv } from '../../test/support/env.ts';
import { provisionTenant } from '../../test/support/tenant.ts';
import { startTcpRelay } from './relay.ts';

const API_SETTINGS = { LOG_LEVEL: 'warn', SERVE_RATE_LIMIT: '100000000' };

/** A `stowage api` (the built JavaScript, as production runs it) on the test environment's servers. */
export interface BenchStack {
  api: CliServer;
  /** The same API on Node 20, when the machine has one (see `findNode20`). */
  apiOnNode20?: CliServer;
  s3: S3Client;
  tenantId: string;
  storageBucket: string;
  key: string;
  stop(): Promise<void>;
}

/** `node20`: a Node 20 binary to run a second API with, for the rows that compare runtimes. */
export async function startBenchStack(node20?: string): Promise<BenchStack> {
  if (!process.env.DATABASE_URL || !process.env.S3_ENDPOINT)
    throw new Error('run through the test environment (make bench)');
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  await migrate(pool);
  const tenantId = `bench-${Date.now()}`;
  const storageBucket = `stowage-${tenantId}`;
  const s3 = createS3Client(loadConfig().s3);
  const key = await provisionTenant(pool, new S3ObjectStore(s3), {
    id: tenantId,
    owner: 'bench',
    storageBucket,
    spec: {
      quota: { storage: '1000Gi', maxFileSize: '10Gi' },
      rateLimits: { upload: 1_000_000, list: 1_000_000, delete: 1_000_000, usage: 1_000_000 },
    },
  });
  const api = await startCliServer('api', API_SETTINGS, { compiled: true });
  const apiOnNode20 = node20
    ? await startCliServer('api', API_SETTINGS, { compiled: true, node: node20 })
    : undefined;
  return {
    api,
    apiOnNode20,
    s3,
    tenantId,
    storageBucket,
    key,
    async stop() {
      await Promise.all([api.stop(), apiOnNode20?.stop()]);
      await pool.end();
    },
  };
}

/** The other paths transfers take: a second API that redirects every download to S3, and a bare TCP relay to S3. */
export interface TransferPaths {
  redirecting: CliServer;
  /** curl's `--connect-to` for sending S3 requests through the relay. */
  relayTo: string;
  stop(): Promise<void>;
}

export async function startTransferPaths(): Promise<TransferPaths> {
  const redirecting = await startCliServer(
    'api',
    { ...API_SETTINGS, DOWNLOAD_REDIRECT_SIZE: '1' },
    { compiled: true },
  );
  const relay = await startTcpRelay(new URL(requireEnv('S3_ENDPOINT')));
  return {
    redirecting,
    relayTo: relay.connectTo,
    async stop() {
      await Promise.all([redirecting.stop(), relay.close()]);
    },
  };
}

/**
 * A Node 20 binary for the rows that compare runtimes (Node 20 is out of support; the rows go with the
 * next release): BENCH_NODE20, else the first `node` on PATH, /usr/bin or /usr/local/bin whose major is
 * 20; undefined if there is none.
 */
export function findNode20(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'node'));
  const candidates = process.env.BENCH_NODE20
    ? [process.env.BENCH_NODE20]
    : [...onPath, '/usr/bin/node', '/usr/local/bin/node'];
  return candidates.find((node) => {
    try {
      return execFileSync(node, ['--version'], { encoding: 'utf8' }).startsWith('v20.');
    } catch {
      return false;
    }
  });
}
