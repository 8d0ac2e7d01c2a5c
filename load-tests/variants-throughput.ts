/**
 * Benchmark (not a test): variants per second through the image worker (upload → outbox → BullMQ →
 * `stowage worker` → S3 → recorded), against the worker's variant function (`makeVariants`) called
 * directly on the same images, as many at once as the worker's concurrency, in the same run. The
 * worker's time per phase comes from its `stowage_variant_job_phase_seconds` histogram. Writes a row to
 * BENCHMARKS.md.
 *
 *   make bench-variants          # BENCH_IMAGES=40 images of 2400x1600
 */
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import type pg from 'pg';
import sharp from 'sharp';
import { makeVariants } from '@stowage/image-worker';
import { loadBefore, machine, recordBenchmarkRow } from './benchmarks-file.ts';
import { realBackend } from '../test/support/api-stack.ts';
import { startCliServer } from '../test/support/cli.ts';
import { upload } from '../test/support/http.ts';
import { eventually } from '../test/support/poll.ts';

const count = Number(process.env.BENCH_IMAGES ?? 40);
/** The worker's default WORKER_CONCURRENCY, used on both paths. */
const concurrency = 2;
const limits = { maxInputPixels: 40_000_000, timeoutSeconds: 60 };
/** How the worker's process is started (as README advises), and so the baseline's. */
const threads = { UV_THREADPOOL_SIZE: String(availableParallelism()), MALLOC_ARENA_MAX: '2' };
/** The argument that makes this file time the function alone and print the seconds. */
const ALONE = '--function-alone';
const run = promisify(execFile);

async function images(): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      sharp({
        create: {
          width: 2400,
          height: 1600,
          channels: 3,
          background: '#000',
          noise: { type: 'gaussian', mean: 100 + i, sigma: 30 },
        },
      })
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
}

/** Times the variant function alone, `concurrency` images at a time, nothing else. */
async function timeFunctionAlone(inputs: Buffer[]): Promise<number> {
  const started = performance.now();
  const queue = [...inputs];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let input = queue.shift(); input; input = queue.shift()) await makeVariants(input, limits);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The baseline, in a process of its own started with the worker's thread settings. In the benchmark's
 * process it ran with others: libuv's default pool of 4 threads, and sharp at 1 thread per image, which
 * it chooses on glibc unless MALLOC_ARENA_MAX is set (the worker, with it set, uses one per core).
 */
async function functionAlone(): Promise<number> {
  const { stdout } = await run(process.execPath, [...process.execArgv, import.meta.filename, ALONE], {
    env: { ...process.env, ...threads },
  });
  return Number(stdout);
}

/** Mean seconds per job in each phase, from the worker's Prometheus text. */
function phaseMeans(metrics: string): Record<string, number> {
  const read = (what: 'sum' | 'count') =>
    new Map(
      [
        ...metrics.matchAll(
          new RegExp(`^stowage_variant_job_phase_seconds_${what}\\{phase="(\\w+)"\\} (\\S+)$`, 'gm'),
        ),
      ].map((m) => [m[1]!, Number(m[2])]),
    );
  const counts = read('count');
  return Object.fromEntries([...read('sum')].map(([phase, sum]) => [phase, sum / counts.get(phase)!]));
}

/**
 * Resolves once every file of the tenant has its variants recorded, as the database says. Asking the API
 * instead (GET /files, every 200 ms) counts against the tenant's `list` rate limit of 120 a minute: past
 * it, the 429s held the clock until the minute was over, so the figure measured the limit, not the worker.
 */
async function allVariantsRecorded(pool: pg.Pool, tenantId: string): Promise<void> {
  const { failed } = await eventually(
    async () => {
      const { rows } = await pool.query<{ pending: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE variant_status = 'pending')::int AS pending,
                count(*) FILTER (WHERE variant_status = 'failed')::int AS failed
         FROM files WHERE tenant_id = $1`,
        [tenantId],
      );
      return rows[0]!.pending === 0 ? rows[0] : undefined;
    },
    'variants',
    600_000,
  );
  if (failed) throw new Error(`${failed} images got no variants: see the worker's log`);
}

async function throughWorker(inputs: Buffer[]): Promise<{ seconds: number; phases: Record<string, number> }> {
  const stack = await realBackend.create();
  // However many BENCH_IMAGES, the uploads are never held back by the tenant's rate limit.
  const tenant = await stack.createTenant({ rateLimits: { upload: 1_000_000 } });
  const worker = await startCliServer('worker', {
    DATABASE_URL: stack.db.url,
    QUEUE_PREFIX: `bench-${Date.now()}`,
    LOG_LEVEL: 'warn',
    ...threads,
    WORKER_CONCURRENCY: String(concurrency),
  });
  try {
    const started = performance.now();
    for (const input of inputs) {
      const res = await upload(stack.url, 'bench', input, { key: tenant.key });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    await allVariantsRecorded(stack.db.pool, tenant.id);
    return { seconds: (performance.now() - started) / 1000, phases: phaseMeans(await worker.metrics()) };
  } finally {
    await worker.stop();
    await stack.close();
  }
}

/** Images per second made by the variant function alone and through the worker, in one run. */
export async function measureVariants(): Promise<{
  images: number;
  alone: number;
  worker: number;
  phases: Record<string, number>;
}> {
  const inputs = await images();
  const alone = count / (await functionAlone());
  const { seconds, phases } = await throughWorker(inputs);
  return { images: count, alone, worker: count / seconds, phases };
}

/** `fetch 0.012 s, variants 0.9 s, …`: where a job's time goes. */
export const describePhases = (phases: Record<string, number>) =>
  Object.entries(phases)
    .map(([phase, seconds]) => `${phase} ${seconds.toPrecision(2)} s`)
    .join(', ');

async function main() {
  const load = loadBefore();
  const { alone, worker, phases } = await measureVariants();
  const rate = (perSecond: number) => perSecond.toFixed(2);
  console.log(
    `the variant function alone: ${rate(alone)} images/s; through the worker: ${rate(worker)} images/s`,
  );
  console.log(`mean per job: ${describePhases(phases)}`);
  await recordBenchmarkRow('variants', [
    new Date().toISOString().slice(0, 10),
    `${count} × 2400x1600 JPEG`,
    rate(alone),
    rate(worker),
    (worker / alone).toFixed(2),
    describePhases(phases),
    `${machine()}, ${load}`,
  ]);
}

if (process.argv[1] === import.meta.filename) {
  if (process.argv[2] === ALONE) console.log(await timeFunctionAlone(await images()));
  else await main();
}
