import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { objectKeyOf } from '@stowage/core';
import { realBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { startCliServer, type CliProcess, type CliServer } from '../support/cli.ts';
import { requireEnv, uniqueName } from '../support/env.ts';
import { call, upload } from '../support/http.ts';
import { imageCorpus } from '../support/image-corpus.ts';
import { eventually } from '../support/poll.ts';

interface LogLine {
  time: number;
  msg: string;
  fileId?: string;
  final?: boolean;
  result?: string;
}

/** An image that takes a worker a few seconds, long enough to interrupt. */
const bigImage = () =>
  sharp({
    create: {
      width: 8000,
      height: 6000,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 50 },
    },
  })
    .jpeg({ quality: 90 })
    .toBuffer();

/** The worker's complete JSON log lines (the last may still be arriving). */
const logLines = (worker: CliProcess): LogLine[] =>
  worker
    .output()
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

/** Whether `worker` logged `msg` about the file `fileId`. */
const logged = (worker: CliProcess, msg: string, fileId: string): boolean =>
  logLines(worker).some((l) => l.msg === msg && l.fileId === fileId);

describe('image workers sharing a BullMQ queue in Redis', () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  const workers: CliServer[] = [];
  const prefix = uniqueName('q');

  async function startWorker(): Promise<CliServer> {
    const worker = await startCliServer('worker', {
      DATABASE_URL: stack.db.url,
      REDIS_URL: requireEnv('REDIS_URL'),
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: '1',
      WORKER_LOCK_MS: '2000',
      VARIANT_MAX_PIXELS: '100000000',
      LOG_LEVEL: 'info',
    });
    workers.push(worker);
    return worker;
  }

  const variantStatus = async (key: string) =>
    (await call(stack.url, `/files/img/${key}`, { key: tenant.key })).body.file.variantStatus as string;
  const variantsBecome = (key: string, status: string, what: string, deadlineMs?: number) =>
    eventually(async () => ((await variantStatus(key)) === status ? true : undefined), what, deadlineMs);

  before(async () => {
    stack = await realBackend.create();
    tenant = await stack.createTenant();
    await startWorker();
    await startWorker();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await stack.close();
  });

  it('processes every image once at a time, with no job run twice concurrently', async () => {
    const corpus = await imageCorpus();
    const images = [
      corpus.jpeg,
      corpus.png,
      corpus.webp,
      corpus.avif,
      corpus.tiff,
      corpus.gif,
      corpus.tiny,
      corpus.truncatedJpeg,
    ];
    const uploads = await Promise.all(
      images.map((img) => upload(stack.url, 'img', img.data, { key: tenant.key })),
    );
    for (const [i, u] of uploads.entries()) {
      const expected = images[i] === corpus.truncatedJpeg ? 'failed' : 'ready';
      await variantsBecome(u.body.file.key, expected, `${expected} ${i}`);
    }
    // Per file, across both workers: every start is followed by its end before another start.
    const events = workers
      .flatMap((w) => logLines(w))
      .filter((l) => l.fileId && l.msg.startsWith('variant job'));
    for (const u of uploads) {
      const mine = events.filter((e) => e.fileId === u.body.file.id).sort((a, b) => a.time - b.time);
      assert.ok(mine.length >= 2, `no log of ${u.body.file.id}`);
      let running = false;
      for (const e of mine) {
        if (e.msg === 'variant job started') {
          assert.equal(running, false, 'started while already running');
          running = true;
        } else running = false;
      }
    }
    // Where the jobs' time went: every phase of every image that made variants was timed.
    const phaseCount = async (phase: string) => {
      const pattern = new RegExp(
        `^stowage_variant_job_phase_seconds_count\\{phase="${phase}"\\} (\\d+)$`,
        'm',
      );
      const counts = await Promise.all(
        workers.map(async (w) => Number(pattern.exec(await w.metrics())?.[1] ?? 0)),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const made = images.length - 1;
    for (const phase of ['queued', 'fetch', 'variants', 'store']) {
      assert.ok((await phaseCount(phase)) >= made, `${phase} timed for every image`);
    }
    // Two record phases per job: the reservation, then the transaction.
    assert.ok((await phaseCount('record')) >= 2 * made);
  });

  it('finishes on another worker a job whose worker was killed mid-way', async () => {
    const big = await bigImage();
    const { body } = await upload(stack.url, 'img', big, { key: tenant.key });
    const victim = await eventually(
      async () => workers.find((w) => logged(w, 'variant job started', body.file.id)),
      'a worker to take the job',
    );
    victim.child.kill('SIGKILL');
    const survivor = workers.find((w) => w !== victim)!;
    await variantsBecome(body.file.key, 'ready', 'the job to finish elsewhere', 120_000);
    assert.ok(logged(survivor, 'variant job finished', body.file.id));
    assert.ok(!logged(victim, 'variant job finished', body.file.id));
  });

  it('lets the job in hand finish on SIGTERM, then exits', async () => {
    const worker = await startWorker();
    for (const other of workers.filter((w) => w !== worker)) await other.stop();
    const { body } = await upload(stack.url, 'img', await bigImage(), { key: tenant.key });
    await eventually(
      async () => logged(worker, 'variant job started', body.file.id) || undefined,
      'the worker to take the job',
    );
    worker.child.kill('SIGTERM');
    const [code] = (await once(worker.child, 'exit')) as [number | null];
    assert.equal(code, 0);
    assert.ok(logged(worker, 'variant job finished', body.file.id));
    assert.equal(await variantStatus(body.file.key), 'ready');
  });

  it('retries a job that failed for a while, and then makes the variants', async () => {
    for (const w of workers) await w.stop();
    const { body } = await upload(stack.url, 'img', (await imageCorpus()).png.data, { key: tenant.key });
    // With no worker running, the job waits; its original goes missing until the first attempt fails.
    const original = { bucket: tenant.storageBucket, key: objectKeyOf('img', body.file.key) };
    const bytes = await buffer((await stack.store.get(original)).body);
    await stack.store.delete({ bucket: original.bucket, keys: [original.key] });
    const worker = await startWorker();
    const ofFile = () => logLines(worker).filter((l) => l.fileId === body.file.id);
    const failed = await eventually(
      async () => ofFile().find((l) => l.msg === 'variant job failed'),
      'the first attempt to fail',
    );
    assert.equal(failed.final, false);
    await stack.store.put({ ...original, body: Readable.from([bytes]), contentType: 'image/png' });
    await variantsBecome(body.file.key, 'ready', 'a later attempt to make the variants');
    assert.ok(ofFile().some((l) => l.msg === 'variant job finished' && l.result === 'done'));
    assert.ok(!ofFile().some((l) => l.final === true));
  });
});
