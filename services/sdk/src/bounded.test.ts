import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eachBounded } from './bounded.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('eachBounded', () => {
  it('runs at most `limit` tasks at once and passes each item its index', async () => {
    let running = 0;
    let most = 0;
    const seen: [string, number][] = [];
    await eachBounded(['a', 'b', 'c', 'd', 'e'], 2, async (item, index) => {
      most = Math.max(most, ++running);
      await tick();
      seen.push([item, index]);
      running--;
    });
    assert.equal(most, 2);
    assert.deepEqual(seen.sort(), [
      ['a', 0],
      ['b', 1],
      ['c', 2],
      ['d', 3],
      ['e', 4],
    ]);
  });

  it('takes the next item only when a task is done', async () => {
    const taken: number[] = [];
    async function* items() {
      for (let i = 0; i < 6; i++) {
        taken.push(i);
        yield i;
      }
    }
    let finished = 0;
    let ahead = 0;
    await eachBounded(items(), 2, async () => {
      ahead = Math.max(ahead, taken.length - finished);
      await tick();
      finished++;
    });
    assert.equal(ahead, 2, 'never more items taken than tasks running');
    assert.equal(taken.length, 6);
  });

  it('stops at the first failure, lets the tasks under way finish, closes the iterator and throws it', async () => {
    let closed = false;
    let finished = 0;
    async function* items() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    await assert.rejects(
      eachBounded(items(), 3, async (i) => {
        await tick();
        if (i === 1) throw new Error('item 1');
        await tick();
        finished++;
      }),
      /item 1/,
    );
    assert.equal(closed, true);
    assert.ok(finished >= 2 && finished < 6, `${finished} finished`);
  });
});
