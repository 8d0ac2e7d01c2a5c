import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyTenant, mintKey, storageTenantSpec } from '@stowage/core';
import { embeddedBackend, type ApiStack } from '../support/api-stack.ts';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';
import { call, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { OwnRedis } from '../support/redis-server.ts';

type Api = CliServer;

function assertHeaders(res: { headers: Headers }, limit: number, remaining: number) {
  assert.equal(res.headers.get('x-ratelimit-limit'), String(limit));
  assert.equal(res.headers.get('x-ratelimit-remaining'), String(remaining));
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  assert.ok(reset >= 1 && reset <= 60, `reset ${reset}`);
}

function assertLimited(res: { status: number; body: any; headers: Headers }) {
  assert.equal(res.status, 429);
  assert.equal(res.body.code, 'RATE_LIMIT_EXCEEDED');
  assert.equal(res.body.message, 'Too many requests, please try again later.');
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
  assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
}

const redisUp = async (api: Api) => /^stowage_rate_limit_redis_up (\d)/m.exec(await api.metrics())?.[1];

describe('rate limits shared through Redis by two API processes', () => {
  let redis: OwnRedis;
  let db: TestDatabase;
  let apis: Api[];
  let tenantId: string;
  const newKey = async () =>
    (await mintKey(db.pool, { tenantId, name: uniqueName('k'), scopes: ['read', 'write'], mode: 'live' }))
      .raw;

  before(async () => {
    redis = await OwnRedis.start();
    db = await databaseBackends[0].create();
    tenantId = uniqueName('rl');
    await applyTenant(db.pool, {
      id: tenantId,
      owner: 'test',
      storageBucket: `stowage-${tenantId}`,
      spec: storageTenantSpec.parse({ rateLimits: { usage: 5, list: 3 }, buckets: [{ name: 'b' }] }),
    });
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      SERVE_RATE_LIMIT: '4',
      AUTH_FAILURE_LIMIT: '3',
    };
    apis = await Promise.all([startCliServer('api', env), startCliServer('api', env)]);
  });
  after(async () => {
    await Promise.all(apis.map((api) => api.stop()));
    await redis.stop();
    await db.drop();
  });

  it('counts one limit per key across both processes, with headers counting down', async () => {
    const key = await newKey();
    for (let i = 0; i < 5; i++) {
      const res = await call(apis[i % 2]!.url, '/usage', { key });
      assert.equal(res.status, 200);
      assertHeaders(res, 5, 4 - i);
    }
    assertLimited(await call(apis[0]!.url, '/usage', { key }));
    assertLimited(await call(apis[1]!.url, '/usage', { key }));

    const other = await newKey();
    assertHeaders(await call(apis[1]!.url, '/usage', { key: other }), 5, 4);
    const list = await call(apis[0]!.url, '/files/b', { key });
    assert.equal(list.status, 200, 'each route class has its own count');
    assertHeaders(list, 3, 2);
  });

  it('limits file serving per client address', async () => {
    const path = `/${tenantId}/b/00000000-0000-4000-8000-000000000000.txt`;
    for (let i = 0; i < 4; i++) {
      const res = await call(apis[i % 2]!.url, path, { headers: { 'x-forwarded-for': '203.0.113.7' } });
      assert.equal(res.status, 404);
      assertHeaders(res, 4, 3 - i);
    }
    assertLimited(await call(apis[0]!.url, path, { headers: { 'x-forwarded-for': '203.0.113.7' } }));
    const elsewhere = await call(apis[0]!.url, path, { headers: { 'x-forwarded-for': '198.51.100.1' } });
    assert.equal(elsewhere.status, 404);
  });

  it('refuses a client address that keeps presenting bad keys, and only it', async () => {
    const from = (address: string, key: string) =>
      call(apis[0]!.url, '/usage', { headers: { 'x-forwarded-for': address, 'x-api-key': key } });
    const bad = 'stw_live_thisIsNotARealKeyAtAllButWellShaped00';
    for (let i = 0; i < 3; i++) assert.equal((await from('192.0.2.1', bad)).status, 401);
    assertLimited(await from('192.0.2.1', bad));
    assert.equal((await from('192.0.2.1', await newKey())).status, 200, 'a good key still works from there');
    assert.equal((await from('192.0.2.2', bad)).status, 401, 'other addresses are not affected');
  });

  it('keeps serving under per-process limits while Redis is down, and shares them again when it returns', async () => {
    await redis.stop();
    for (const api of apis)
      await eventually(async () => ((await redisUp(api)) === '0' ? true : undefined), 'Redis reported down');

    const key = await newKey();
    for (let i = 0; i < 5; i++) assert.equal((await call(apis[0]!.url, '/usage', { key })).status, 200);
    assertLimited(await call(apis[0]!.url, '/usage', { key }));
    const meanwhile = await call(apis[1]!.url, '/usage', { key });
    assert.equal(meanwhile.status, 200, 'the other process counts on its own');
    assertHeaders(meanwhile, 5, 4);
    assert.deepEqual((await call(apis[1]!.url, '/readyz')).body, {
      status: 'ok',
      failing: [],
      degraded: ['redis'],
    });
    assert.match(await apis[0]!.metrics(), /^stowage_rate_limit_fallbacks_total [1-9]/m);

    await redis.resume();
    for (const api of apis)
      await eventually(async () => ((await redisUp(api)) === '1' ? true : undefined), 'Redis reported up');
    const shared = await newKey();
    for (let i = 0; i < 5; i++)
      assertHeaders(await call(apis[i % 2]!.url, '/usage', { key: shared }), 5, 4 - i);
    assertLimited(await call(apis[1]!.url, '/usage', { key: shared }));
  });
});

describe('rate limits without Redis (embedded mode)', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await embeddedBackend.create();
  });
  after(() => stack.close());

  it('limits in memory', async () => {
    const tenant = await stack.createTenant({ rateLimits: { upload: 2 } });
    for (let i = 0; i < 2; i++)
      assertHeaders(await upload(stack.url, 'b', `file ${i}`, { key: tenant.key }), 2, 1 - i);
    assertLimited(await upload(stack.url, 'b', 'one too many', { key: tenant.key }));
  });
});
