import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { eventually } from '../../../../test/support/poll.ts';
import { imageCorpus } from '../../../../test/support/image-corpus.ts';
import { decodeHevc, runInThread, ThreadFailure } from './decode-hevc.ts';

describe('decodeHevc', () => {
  it('decodes a HEIC photo to RGBA pixels', async () => {
    const { heic } = await imageCorpus();
    const { width, height, data } = await decodeHevc(heic.data, 30);
    assert.deepEqual([width, height, data.length], [480, 320, 480 * 320 * 4]);
    // The gradient runs from (0, 0, 128) at the top left to (255, 255, 128) at the bottom right.
    for (const [x, y, expected] of [
      [0, 0, [0, 0, 128, 255]],
      [479, 319, [254, 254, 128, 255]],
    ] as const) {
      const at = (y * width + x) * 4;
      const pixel = [...data.subarray(at, at + 4)];
      pixel.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 8, `${pixel} at ${x},${y}`));
    }
  });

  it('says what the decoder found wrong with a damaged photo', async () => {
    const { truncatedHeic } = await imageCorpus();
    await assert.rejects(decodeHevc(truncatedHeic.data, 30), (err: unknown) => {
      assert.ok(err instanceof Error && !(err instanceof ThreadFailure));
      assert.match(err.message, /HEIF/);
      return true;
    });
  });
});

describe('runInThread', () => {
  it('stops a thread that is still running when its time is up', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const spin = `
      const { workerData } = require('node:worker_threads');
      const counter = new Int32Array(workerData.counter);
      for (;;) Atomics.add(counter, 0, 1);
    `;
    await assert.rejects(runInThread(spin, { counter: counter.buffer }, 1), /took longer than 1 s/);
    assert.ok(Atomics.load(counter, 0) > 0, 'the thread ran');
    await eventually(async () => {
      const before = Atomics.load(counter, 0);
      await sleep(50);
      return Atomics.load(counter, 0) === before || undefined;
    }, 'the thread to stop');
  });

  it('tells a thread that died from an answer', async () => {
    await assert.rejects(runInThread('process.exit(3)', {}, 30), ThreadFailure);
    await assert.rejects(runInThread('throw new Error("boom")', {}, 30), ThreadFailure);
  });
});
