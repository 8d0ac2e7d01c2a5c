import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RowCache, startApi, type RunningApi } from '@stowage/api';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { watchApi } from '../support/contract.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { countingPool } from '../support/query-counter.ts';

const MiB = 1024 * 1024;

/** A statement's first words: enough to tell which one it is. */
const verb = (text: string) => text.split(' ').slice(0, 4).join(' ');

for (const backend of stackBackends) {
  describe(`database round trips per request on ${backend.name}`, () => {
    let stack: ApiStack;
    let api: RunningApi;
    let unwatch: () => void;
    let tenant: TestTenant;
    const sent: string[] = [];

    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant();
      // An API of its own on the same database, whose every query is counted, with no sweep meanwhile.
      // Its caches trust what they hold for a minute (KEY_CACHE_TTL_MS allows 2 s at most), so that
      // what is counted is the work of each request, not that of a cache entry renewed on some of them.
      const pool = countingPool(stack.db.pool, sent);
      const config = { ...stack.deps.config, keyCacheTtlMs: 60_000 };
      const cache = new RowCache(pool, config.keyCacheTtlMs);
      api = await startApi({ ...stack.deps, config, pool, cache }, { sweepIntervalMs: 3_600_000 });
      unwatch = await watchApi(api.url);
    });
    after(async () => {
      unwatch();
      await api.close();
      await stack.close();
    });

    /**
     * The queries `request` sends, once the caches it may use are warm (a request just like it came
     * first). Noting when a key was last used is a background write, once a minute: left out.
     */
    async function queriesOf(request: () => Promise<void>): Promise<string[]> {
      await request();
      sent.length = 0;
      await request();
      return sent.filter((text) => !text.startsWith('UPDATE api_keys SET last_used_at')).map(verb);
    }

    /**
     * What an upload costs after the bytes are stored: one statement that settles the reservation and
     * writes the bucket, the file row, any variant job, the audit entry and the webhook outbox rows.
     */
    const RECORD = ['WITH held AS (SELECT'];

    it('stores a 1 MiB multipart upload in 2 round trips', async () => {
      const queries = await queriesOf(async () => {
        const res = await upload(api.url, 'counted', Buffer.alloc(MiB, 'a'), {
          key: tenant.key,
          filename: 'a.txt',
        });
        assert.equal(res.status, 201);
      });
      assert.deepEqual(queries, [
        'WITH room AS (', // the reservation, covering the whole form: never grown
        ...RECORD,
      ]);
    });

    it('stores a 1 MiB raw PUT in 2 round trips', async () => {
      const queries = await queriesOf(async () => {
        const res = await call(api.url, '/upload/counted/b.txt', {
          method: 'PUT',
          key: tenant.key,
          body: Buffer.alloc(MiB, 'b'),
        });
        assert.equal(res.status, 201);
      });
      assert.deepEqual(queries, ['WITH room AS (', ...RECORD]);
    });

    it('records an image and its variant job in the same statement', async () => {
      const queries = await queriesOf(async () => {
        const res = await upload(api.url, 'counted', PNG_1X1, { key: tenant.key, filename: 'a.png' });
        assert.equal(res.status, 201);
        const jobs = await stack.db.pool.query('SELECT 1 FROM variant_jobs WHERE file_id = $1', [
          res.body.file.id,
        ]);
        assert.equal(jobs.rowCount, 1);
      });
      assert.equal(queries.length, 2, queries.join('\n'));
    });

    it('serves a file it has served before without a query', async () => {
      const stored = await upload(api.url, 'served', 'hello', { key: tenant.key, filename: 'h.txt' });
      const protectedOne = await upload(api.url, 'served', 'secret', {
        key: tenant.key,
        filename: 's.txt',
        fields: { allowPublicAccess: 'false' },
      });
      const { key } = stored.body.file;
      const queries = await queriesOf(async () => {
        const served = await fetch(`${api.url}/${tenant.id}/served/${key}`);
        assert.equal(served.status, 200);
        assert.equal(await served.text(), 'hello');
        const withKey = await fetch(`${api.url}/${tenant.id}/served/${protectedOne.body.file.key}`, {
          headers: { 'x-api-key': tenant.key },
        });
        assert.equal(withKey.status, 200);
        assert.equal(await withKey.text(), 'secret');
        const described = await call(api.url, `/files/served/${key}`, { key: tenant.key });
        assert.equal(described.status, 200);
      });
      assert.deepEqual(queries, []);
    });
  });
}
