import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { TtlCache } from './ttl-cache.ts';

describe('TtlCache', () => {
  it('loads once within the lifetime, including misses, and again after it', async () => {
    const cache = new TtlCache<string | undefined>(50);
    let loads = 0;
    const load = async () => {
      loads++;
      return undefined;
    };
    await cache.getOrLoad('k', load);
    await cache.getOrLoad('k', load);
    assert.equal(loads, 1, 'a miss is cached too');
    await sleep(60);
    await cache.getOrLoad('k', load);
    assert.equal(loads, 2);
  });

  it('never caches with a lifetime of 0', async () => {
    const cache = new TtlCache<number>(0);
    let n = 0;
    assert.equal(await cache.getOrLoad('k', async () => ++n), 1);
    assert.equal(await cache.getOrLoad('k', async () => ++n), 2);
  });

  it('drops the oldest entry beyond its bound', async () => {
    const cache = new TtlCache<string>(60_000, 2);
    let loads = 0;
    const load = (v: string) => async () => {
      loads++;
      return v;
    };
    await cache.getOrLoad('a', load('a'));
    await cache.getOrLoad('b', load('b'));
    await cache.getOrLoad('c', load('c'));
    assert.equal(await cache.getOrLoad('c', load('x')), 'c');
    assert.equal(await cache.getOrLoad('a', load('a2')), 'a2', 'a was evicted');
    assert.equal(loads, 4);
  });

  it('peeks without loading and tells a cached undefined from nothing', () => {
    const cache = new TtlCache<string | undefined>(60_000);
    assert.equal(cache.peek('k'), undefined);
    cache.set('k', undefined);
    assert.deepEqual(cache.peek('k'), { value: undefined });
  });

  it('keeps an entry until its own end or the lifetime, whichever comes first', async () => {
    const cache = new TtlCache<string>(50);
    cache.set('ended', 'v', Date.now() - 1);
    assert.equal(cache.peek('ended'), undefined);
    cache.set('ends-later', 'v', Date.now() + 60_000);
    assert.deepEqual(cache.peek('ends-later'), { value: 'v' });
    await sleep(60);
    assert.equal(cache.peek('ends-later'), undefined);
  });
});
