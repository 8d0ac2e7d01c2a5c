import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RowCache, startApi } from '@stowage/api';
import { CHANGE_FEED_APPLICATION, ChangeFeed, withTransaction } from '@stowage/core';
import { realBackend, stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { watchApi } from '../support/contract.ts';
import { upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { countingPool } from '../support/query-counter.ts';

/** The staleness bound: that of a revoked key (KEY_CACHE_TTL_MS at most). */
const BOUND_MS = 2000;

/**
 * An API of its own on a stack's database whose queries are counted, with the cache it is given.
 * A served file's status and whether serving it sent a query tell what the cache did.
 */
async function countedApi(stack: ApiStack, makeCache: (pool: ApiStack['db']['pool']) => RowCache) {
  const sent: string[] = [];
  const pool = countingPool(stack.db.pool, sent);
  const cache = makeCache(pool);
  cache.listen(stack.deps.logger);
  const api = await startApi({ ...stack.deps, pool, cache }, { sweepIntervalMs: 3_600_000 });
  const unwatch = await watchApi(api.url);
  return {
    api,
    /** Fetches a file: its status, and whether the database was asked. */
    async serve(path: string): Promise<{ status: number; queried: boolean }> {
      sent.length = 0;
      const res = await fetch(`${api.url}${path}`);
      await res.arrayBuffer();
      return { status: res.status, queried: sent.some((text) => text.includes('FROM files')) };
    },
    async close() {
      unwatch();
      await api.close();
      await cache.close();
    },
  };
}

type CountedApi = Awaited<ReturnType<typeof countedApi>>;

/** Uploads a public file and serves it until this API serves it from memory; resolves to its path. */
async function cachedFile(stack: ApiStack, tenant: TestTenant, served: CountedApi): Promise<string> {
  const res = await upload(stack.url, 'cached', 'hello', { key: tenant.key, filename: 'h.txt' });
  assert.equal(res.status, 201);
  const path = `/${tenant.id}/cached/${res.body.file.key}`;
  await eventually(async () => {
    const { status, queried } = await served.serve(path);
    assert.equal(status, 200);
    return queried ? undefined : true;
  }, 'the file to be served from memory');
  return path;
}

/** The id of the file a serve path names: the UUID its name starts with. */
const idOf = (path: string) => path.split('/').at(-1)!.slice(0, 36);

/** Deletes a file's row behind every API's back, and without a word on the change channel. */
async function deleteSilently(stack: ApiStack, path: string): Promise<void> {
  await withTransaction(stack.db.pool, async (client) => {
    // Replica mode skips triggers: the notification that migration 008's trigger would send is lost.
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query('DELETE FROM files WHERE id = $1', [idOf(path)]);
  });
}

const cutChannel = async (stack: ApiStack) =>
  stack.db.pool.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
    [CHANGE_FEED_APPLICATION],
  );

describe(`cached file rows on ${realBackend.name}`, () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  before(async () => {
    stack = await realBackend.create();
    tenant = await stack.createTenant();
  });
  after(() => stack.close());

  it('forgets a row another writer deletes when the database says so, long before it expires', async () => {
    // Kept for a minute: only the notification can make it go sooner.
    const served = await countedApi(
      stack,
      (pool) => new RowCache(pool, 60_000, new ChangeFeed(stack.db.url)),
    );
    try {
      const path = await cachedFile(stack, tenant, served);
      await stack.db.pool.query('DELETE FROM files WHERE id = $1', [idOf(path)]);
      await eventually(
        async () => ((await served.serve(path)).status === 404 ? true : undefined),
        'the deleted file to be 404',
        BOUND_MS,
      );
    } finally {
      await served.close();
    }
  });

  it('reads every row from the database while the change channel is cut', async () => {
    // It stays cut: the feed would only try again after a minute.
    const feed = new ChangeFeed(stack.db.url, { retryMs: 60_000 });
    const served = await countedApi(stack, (pool) => new RowCache(pool, 60_000, feed));
    try {
      const path = await cachedFile(stack, tenant, served);
      await cutChannel(stack);
      await eventually(
        async () => ((await served.serve(path)).queried ? true : undefined),
        'the cache to notice the cut and read the database',
        BOUND_MS,
      );
      assert.deepEqual(await served.serve(path), { status: 200, queried: true }, 'nothing is kept meanwhile');
      await deleteSilently(stack, path);
      assert.deepEqual(await served.serve(path), { status: 404, queried: true });
    } finally {
      await served.close();
    }
  });

  it('caches again once the channel is back, and hears changes again', async () => {
    const feed = new ChangeFeed(stack.db.url, { retryMs: 100 });
    const served = await countedApi(stack, (pool) => new RowCache(pool, 60_000, feed));
    try {
      const before = await cachedFile(stack, tenant, served);
      await cutChannel(stack);
      await eventually(async () => ((await served.serve(before)).queried ? true : undefined), 'a read');
      const path = await cachedFile(stack, tenant, served);
      await stack.db.pool.query('DELETE FROM files WHERE id = $1', [idOf(path)]);
      await eventually(
        async () => ((await served.serve(path)).status === 404 ? true : undefined),
        'the deleted file to be 404',
        BOUND_MS,
      );
    } finally {
      await served.close();
    }
  });
});

for (const backend of stackBackends) {
  describe(`cached file rows on ${backend.name}, when no change is heard`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant();
    });
    after(() => stack.close());

    it('forgets a row within its lifetime (KEY_CACHE_TTL_MS) even if the change is never announced', async () => {
      // No feed: a notification lost, or a channel broken in a way nobody has noticed yet.
      const served = await countedApi(stack, (pool) => new RowCache(pool, 1000));
      try {
        const path = await cachedFile(stack, tenant, served);
        await deleteSilently(stack, path);
        await eventually(
          async () => ((await served.serve(path)).status === 404 ? true : undefined),
          'the deleted file to be 404',
          BOUND_MS,
        );
      } finally {
        await served.close();
      }
    });
  });
}
