/**
 * Benchmark (not a test): variants per second through the image worker (upload → outbox → BullMQ →
 * `stowage worker` → S3 → recorded), against a bare sharp script making the same three WebP variants of
 * the same images in one process, in the same run. Writes a row to BENCHMARKS.md.
 *
 *   make bench-variants          # BENCH_IMAGES=40 images of 2400x1600
 */
import { availableParallelism } from 'node:os';
import { machine, recordBenchmarkRow } from './benchmarks-file.ts';
import sharp from 'sharp';
import { realBackend } from '../test/support/api-stack.ts';
import { startCliServer } from '../test/support/cli.ts';
import { upload, call } from '../test/support/http.ts';
import { eventually } from '../test/support/poll.ts';

const count = Number(process.env.BENCH_IMAGES ?? 40);
const widths = [1920, 800, 300];

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

/** The baseline: the plainest sharp code for three variants, images one after another. */
async function bareSharp(inputs: Buffer[]): Promise<number> {
  const started = performance.now();
  for (const input of inputs) {
    await Promise.all(
      widths.map((width) =>
        sharp(input).rotate().resize({ width, withoutEnlargement: true }).webp({ quality: 80 }).toBuffer(),
      ),
    );
  }
  return (performance.now() - started) / 1000;
}

async function throughWorker(inputs: Buffer[]): Promise<number> {
  const stack = await realBackend.create();
  const tenant = await stack.createTenant();
  const worker = await startCliServer('worker', {
    DATABASE_URL: stack.db.url,
    QUEUE_PREFIX: `bench-${Date.now()}`,
    LOG_LEVEL: 'warn',
    UV_THREADPOOL_SIZE: String(availableParallelism()),
    MALLOC_ARENA_MAX: '2',
  });
  try {
    const started = performance.now();
    const keys = [];
    for (const input of inputs)
      keys.push((await upload(stack.url, 'bench', input, { key: tenant.key })).body.file.key as string);
    for (const key of keys) {
      await eventually(
        async () => {
          const res = await call(stack.url, `/files/bench/${key}`, { key: tenant.key });
          return res.body.file.variantStatus === 'ready' ? true : undefined;
        },
        'variants',
        600_000,
      );
    }
    return (performance.now() - started) / 1000;
  } finally {
    await worker.stop();
    await stack.close();
  }
}

/** Images per second made by bare sharp and through the worker, in one run. */
export async function measureVariants(): Promise<{ images: number; bare: number; worker: number }> {
  const inputs = await images();
  const bare = count / (await bareSharp(inputs));
  return { images: count, bare, worker: count / (await throughWorker(inputs)) };
}

async function main() {
  const { bare, worker } = await measureVariants();
  const rate = (perSecond: number) => perSecond.toFixed(1);
  console.log(`bare sharp: ${rate(bare)} images/s; through the worker: ${rate(worker)} images/s`);
  await recordBenchmarkRow('variants', [
    new Date().toISOString().slice(0, 10),
    `${count} × 2400x1600 JPEG`,
    rate(bare),
    rate(worker),
    (worker / bare).toFixed(2),
    machine(),
  ]);
}

if (process.argv[1] === import.meta.filename) await main();
