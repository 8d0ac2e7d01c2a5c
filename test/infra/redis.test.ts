import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { requireEnv, uniqueName } from '../support/env.ts';

describe('Redis (real server, via ioredis)', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis(requireEnv('REDIS_URL'));
  });
  after(() => redis.quit());

  it('answers PING', async () => {
    assert.equal(await redis.ping(), 'PONG');
  });

  it('runs a Lua script atomically (as rate-limiter-flexible does)', async () => {
    const key = uniqueName('counter');
    // Increment with an expiry set on first use, like a fixed-window limiter.
    const script = `
      local n = redis.call('INCRBY', KEYS[1], ARGV[1])
      if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
      return {n, redis.call('PTTL', KEYS[1])}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => redis.eval(script, 1, key, 1, 60_000) as Promise<[number, number]>),
    );
    const counts = results.map(([n]) => n).sort((a, b) => a - b);
    assert.deepEqual(
      counts,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    for (const [, ttl] of results) assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
  });
});
