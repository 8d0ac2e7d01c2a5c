import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageCorpus } from '../../../../test/support/image-corpus.ts';
import { decodeHevc } from './decode-hevc.ts';

describe('decodeHevc', () => {
  it('decodes a HEIC photo to RGBA pixels', async () => {
    const { heic } = await imageCorpus();
    const { width, height, data } = await decodeHevc(heic.data, 30);
    assert.deepEqual([width, height, data.length], [480, 320, 480 * 320 * 4]);
    // The gradient runs from (0, 0, 128) at the top left to (255, 255, 128) at the bottom right.
    const pixel = (x: number, y: number) => [...data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4)];
    for (const [x, y, rgba] of [
      [0, 0, [0, 0, 128, 255]],
      [479, 319, [254, 254, 128, 255]],
    ] as const) {
      pixel(x, y).forEach((v, i) => assert.ok(Math.abs(v - rgba[i]!) <= 8, `${pixel(x, y)} at ${x},${y}`));
    }
  });

  it('stops a decode that outlasts its time limit', async () => {
    const { heic } = await imageCorpus();
    await assert.rejects(decodeHevc(heic.data, 0), /took longer than 0 s/);
  });
});
