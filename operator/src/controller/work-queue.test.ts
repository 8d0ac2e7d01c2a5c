import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue, backoffDelay } from './work-queue.ts';

const options = { concurrency: 4, baseDelayMs: 1, maxDelayMs: 8 };

/** A handler whose calls finish only when the test says so. */
function gatedHandler() {
  const calls: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const gates: (() => void)[] = [];
  return {
    calls,
    maxRunning: () => maxRunning,
    release: () => gates.shift()?.(),
    pending: () => gates.length,
    handler: async (key: string) => {
      calls.push(key);
      maxRunning = Math.max(maxRunning, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  it('doubles the backoff on every failure up to the maximum, with at most 10% jitter', () => {
    const delays = [1, 2, 3, 4, 5].map((n) =>
      backoffDelay(n, { ...options, baseDelayMs: 100, maxDelayMs: 1000 }, () => 0),
    );
    assert.deepEqual(delays, [100, 200, 400, 800, 1000]);
    assert.equal(
      backoffDelay(1, { ...options, baseDelayMs: 100, maxDelayMs: 1000 }, () => 0.999),
      110,
    );
  });

  it('handles a key added while queued once, and one added while running again afterwards, never concurrently', async () => {
    const gate = gatedHandler();
    const queue = new WorkQueue(gate.handler, { ...options, concurrency: 1 }, assert.fail);
    queue.add('a');
    queue.add('b');
    queue.add('b');
    await tick();
    assert.deepEqual(gate.calls, ['a']);
    queue.add('a'); // while running: once more afterwards
    queue.add('a');
    gate.release();
    await tick();
    gate.release();
    await tick();
    gate.release();
    await tick();
    assert.deepEqual(gate.calls, ['a', 'b', 'a']);
    assert.equal(gate.maxRunning(), 1);
    await queue.stop();
  });

  it('runs different keys in parallel up to the concurrency', async () => {
    const gate = gatedHandler();
    const queue = new WorkQueue(gate.handler, { ...options, concurrency: 2 }, assert.fail);
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await tick();
    assert.equal(gate.pending(), 2);
    gate.release();
    await tick();
    assert.deepEqual(gate.calls, ['a', 'b', 'c']);
    gate.release();
    gate.release();
    await queue.stop();
    assert.equal(gate.maxRunning(), 2);
  });

  it('retries a failing key with backoff until it succeeds, reporting each failure', async () => {
    const failures: string[] = [];
    let attempts = 0;
    let done!: () => void;
    const succeeded = new Promise<void>((resolve) => (done = resolve));
    const queue = new WorkQueue(
      async () => {
        if (++attempts < 4) throw new Error(`attempt ${attempts}`);
        done();
      },
      options,
      (key, error) => failures.push(`${key}: ${(error as Error).message}`),
    );
    queue.add('flaky');
    await succeeded;
    assert.deepEqual(failures, ['flaky: attempt 1', 'flaky: attempt 2', 'flaky: attempt 3']);
    await queue.stop();
  });

  it('stops taking work and waits for the handler in progress', async () => {
    const gate = gatedHandler();
    const queue = new WorkQueue(gate.handler, options, assert.fail);
    queue.add('a');
    await tick();
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    queue.add('b');
    await tick();
    assert.equal(stopped, false);
    gate.release();
    await stopping;
    assert.deepEqual(gate.calls, ['a']);
  });
});
