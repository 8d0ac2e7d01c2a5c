/**
 * Benchmark (not a test): streams one large multipart upload through a `stowage api` process backed by
 * the real PostgreSQL and MinIO of the test environment, sampling the API process's RSS, and records the
 * peak and the throughput in BENCHMARKS.md.
 *
 *   make bench-upload-memory            # 2 GiB
 *   BENCH_BYTES=10Gi make bench-upload-memory
 */
import { randomBytes } from 'node:crypto';
import { machine, recordBenchmarkRow } from './benchmarks-file.ts';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import pg from 'pg';
import {
  S3ObjectStore,
  applyTenant,
  createS3Client,
  loadConfig,
  migrate,
  mintKey,
  parseByteQuantity,
  storageTenantSpec,
} from '@stowage/core';
import { startCliServer } from '../test/support/cli.ts';

const MiB = 1024 * 1024;
const total = parseByteQuantity(process.env.BENCH_BYTES ?? '2Gi') ?? 0;
if (total === 0) throw new Error('BENCH_BYTES must be a byte quantity such as 2Gi');
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl || !process.env.S3_ENDPOINT)
  throw new Error('run through the test environment: make bench-upload-memory');

function rssBytes(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (status) => Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024,
  );
}

async function main() {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  await migrate(pool);
  const tenantId = `bench-${Date.now()}`;
  await applyTenant(pool, {
    id: tenantId,
    owner: 'bench',
    storageBucket: `stowage-${tenantId}`,
    spec: storageTenantSpec.parse({ quota: { storage: '100Gi', maxFileSize: '10Gi' } }),
  });
  const key = await mintKey(pool, {
    tenantId,
    name: 'bench',
    scopes: ['read', 'write', 'admin'],
    mode: 'test',
  });
  await new S3ObjectStore(createS3Client(loadConfig().s3)).ensureBucket(`stowage-${tenantId}`);

  const api = await startCliServer('api', { LOG_LEVEL: 'warn' }, { compiled: true });
  const pid = api.child.pid!;
  const idleRss = await rssBytes(pid);
  let peak = idleRss;
  const sampler = setInterval(() => void rssBytes(pid).then((rss) => (peak = Math.max(peak, rss))), 50);

  const boundary = 'stowage-bench-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const block = randomBytes(MiB);
  const started = process.hrtime.bigint();
  const status = await new Promise<number>((done, fail) => {
    const req = request(`${api.url}/upload/bench`, {
      method: 'POST',
      headers: {
        'x-api-key': key.raw,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + total + tail.length),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', fail);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const chunk = block.subarray(0, Math.min(MiB, total - sent));
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  await api.stop();
  await pool.end();
  if (status !== 201) throw new Error(`upload answered ${status}`);

  const gib = total / 1024 ** 3;
  console.log(
    `uploaded ${gib.toFixed(2)} GiB in ${seconds.toFixed(1)} s; API RSS idle ${(idleRss / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB`,
  );
  await recordBenchmarkRow('upload-memory', [
    new Date().toISOString().slice(0, 10),
    `${gib.toFixed(2)} GiB`,
    `${(total / MiB / seconds).toFixed(0)} MiB/s`,
    `${(idleRss / MiB).toFixed(0)} MiB`,
    `${(peak / MiB).toFixed(0)} MiB`,
    machine(),
  ]);
}

await main();
