import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getUsage, type KeyMode } from '@stowage/core';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';

const MODES = ['live', 'test'] as const;
const DAY_MS = 24 * 3600 * 1000;

for (const backend of stackBackends) {
  describe(`test mode on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create();
    });
    after(() => stack.close());

    /** A tenant with a live and a test key, each holding every scope. */
    const sandboxed = async (spec: Record<string, unknown> = {}) => {
      const tenant = await stack.createTenant(spec);
      const keys: Record<KeyMode, string> = {
        live: tenant.key,
        test: await tenant.mintKey(['read', 'write', 'admin'], { mode: 'test' }),
      };
      return { tenant, keys };
    };
    const metadata = (key: string, bucket: string, file: string) =>
      call(stack.url, `/files/${bucket}/${file}`, { key });
    const listed = async (key: string, bucket: string) => {
      const res = await call(stack.url, `/files/${bucket}`, { key });
      return { status: res.status, keys: (res.body.files ?? []).map((f: { key: string }) => f.key) };
    };
    const usage = async (key: string) => (await call(stack.url, '/usage', { key })).body.data;

    it("puts a file in its key's mode and shows the mode in every file view", async () => {
      const { keys } = await sandboxed();
      const live = await upload(stack.url, 'docs', 'kept', { key: keys.live });
      const test = await upload(stack.url, 'docs', 'sandboxed', { key: keys.test });
      const put = await call(stack.url, '/upload/docs/notes.txt', {
        method: 'PUT',
        key: keys.test,
        body: 'x',
      });
      assert.equal(live.status, 201);
      assert.deepEqual([live.body.file.mode, live.body.file.expiresAt], ['live', null]);
      assert.equal(test.body.file.mode, 'test');
      assert.equal(put.body.file.mode, 'test');

      const meta = (await metadata(keys.test, 'docs', test.body.file.key)).body.file;
      assert.equal(meta.mode, 'test');
      assert.equal(meta.expiresAt, test.body.file.expiresAt);
      assert.equal(
        Date.parse(meta.expiresAt) - Date.parse(meta.createdAt),
        DAY_MS,
        'a test file is deleted TEST_FILE_TTL (a day) after upload',
      );
      assert.equal((await metadata(keys.live, 'docs', live.body.file.key)).body.file.mode, 'live');
      const page = await call(stack.url, '/files/docs', { key: keys.test });
      assert.deepEqual(
        page.body.files.map((f: { key: string; mode: string }) => [f.key, f.mode]),
        [
          [test.body.file.key, 'test'],
          [put.body.file.key, 'test'],
        ],
      );
    });

    it('shows each key only the files of its mode, on every route', async () => {
      const { tenant, keys } = await sandboxed();
      const files = {} as Record<KeyMode, string>;
      for (const mode of MODES) {
        const res = await upload(stack.url, 'shared', `a ${mode} file`, {
          key: keys[mode],
          fields: { allowPublicAccess: 'false' },
        });
        files[mode] = res.body.file.key;
      }
      const serve = (key: string, file: string) =>
        fetch(`${stack.url}/${tenant.id}/shared/${file}`, { headers: { 'x-api-key': key } });

      for (const keyMode of MODES) {
        const key = keys[keyMode];
        assert.deepEqual((await listed(key, 'shared')).keys, [files[keyMode]], `${keyMode} key lists`);
        for (const fileMode of MODES) {
          const file = files[fileMode];
          const seen = keyMode === fileMode;
          const what = `${keyMode} key, ${fileMode} file`;
          const meta = await metadata(key, 'shared', file);
          assert.equal(meta.status, seen ? 200 : 404, `${what}: metadata`);
          if (!seen) assert.equal(meta.body.code, 'FILE_NOT_FOUND');
          const signed = await call(stack.url, '/files/signed-url', {
            method: 'POST',
            key,
            json: { bucket: 'shared', key: file },
          });
          assert.equal(signed.status, seen ? 200 : 404, `${what}: signed URL`);
          const patched = await call(stack.url, `/files/shared/${file}`, {
            method: 'PATCH',
            key,
            json: { tags: [keyMode] },
          });
          assert.equal(patched.status, seen ? 200 : 404, `${what}: patch`);
          assert.equal((await serve(key, file)).status, seen ? 200 : 404, `${what}: served with the key`);
        }
      }

      // Deleting is idempotent: a file of the other mode answers like a missing one, and stays.
      for (const keyMode of MODES) {
        const other = files[keyMode === 'live' ? 'test' : 'live'];
        const res = await call(stack.url, '/files/delete', {
          method: 'POST',
          key: keys[keyMode],
          json: { bucket: 'shared', key: other },
        });
        assert.equal(res.status, 200);
        const many = await call(stack.url, '/files/delete-many', {
          method: 'POST',
          key: keys[keyMode],
          json: { bucket: 'shared', keys: [other] },
        });
        assert.deepEqual([many.status, many.body.deleted], [200, [other]]);
      }
      for (const mode of MODES) {
        const kept = await metadata(keys[mode], 'shared', files[mode]);
        assert.equal(kept.status, 200, `${mode} file kept`);
        assert.deepEqual(kept.body.file.tags, [mode], `${mode} file changed by its own key only`);
        await call(stack.url, '/files/delete', {
          method: 'POST',
          key: keys[mode],
          json: { bucket: 'shared', key: files[mode] },
        });
        assert.equal((await metadata(keys[mode], 'shared', files[mode])).status, 404, `${mode} file deleted`);
      }
      assert.deepEqual(await stack.storedObjects(tenant.storageBucket), []);
    });

    it('serves test files by URL like any file: public ones to anyone, signed ones to whoever holds the URL', async () => {
      const { tenant, keys } = await sandboxed();
      const open = await upload(stack.url, 'pub', 'for everyone', { key: keys.test });
      const anyone = await fetch(open.body.url.replace('http://files.test', stack.url));
      assert.equal(anyone.status, 200);
      assert.equal(await anyone.text(), 'for everyone');

      const closed = await upload(stack.url, 'pub', 'for the holder', {
        key: keys.test,
        fields: { allowPublicAccess: 'false' },
      });
      const path = `/${tenant.id}/pub/${closed.body.file.key}`;
      assert.equal((await fetch(`${stack.url}${path}`)).status, 404);
      const signed = await call(stack.url, '/files/signed-url', {
        method: 'POST',
        key: keys.test,
        json: { bucket: 'pub', key: closed.body.file.key },
      });
      const held = await fetch(signed.body.url.replace('http://files.test', stack.url));
      assert.equal(held.status, 200);
      assert.equal(await held.text(), 'for the holder');
    });

    for (const first of MODES) {
      const second: KeyMode = first === 'live' ? 'test' : 'live';
      it(`lets a ${first} admin delete a bucket's ${first} files only; the bucket goes with the last file`, async () => {
        const { tenant, keys } = await sandboxed();
        for (const [mode, n] of [
          [first, 2],
          [second, 1],
        ] as const) {
          for (let i = 0; i < n; i++) await upload(stack.url, 'mixed', `${mode} ${i}`, { key: keys[mode] });
        }
        const deleteBucket = (mode: KeyMode) =>
          call(stack.url, '/files/delete-bucket', {
            method: 'POST',
            key: keys[mode],
            json: { bucket: 'mixed' },
          });

        assert.equal((await deleteBucket(first)).body.filesDeleted, 2);
        assert.deepEqual(await listed(keys[first], 'mixed'), { status: 200, keys: [] }, 'the bucket stays');
        assert.equal((await listed(keys[second], 'mixed')).keys.length, 1, `the ${second} file stays`);
        assert.equal((await getUsage(stack.db.pool, tenant.id, second))?.fileCount, 1);
        assert.equal((await getUsage(stack.db.pool, tenant.id, first))?.fileCount, 0);

        assert.equal((await deleteBucket(second)).body.filesDeleted, 1);
        for (const mode of MODES) assert.equal((await listed(keys[mode], 'mixed')).status, 404);
        assert.deepEqual(await stack.storedObjects(tenant.storageBucket), []);
      });
    }

    it('counts test files against quota.testStorage, never against the live quota', async () => {
      const { tenant, keys } = await sandboxed({ quota: { storage: 2000, testStorage: 1000 } });
      assert.equal((await upload(stack.url, 'q', 'x'.repeat(600), { key: keys.test })).status, 201);
      assert.deepEqual(await usage(keys.live), {
        mode: 'live',
        totalQuota: 2000,
        usedQuota: 0,
        remainingQuota: 2000,
        percentUsed: 0,
        fileCount: 0,
      });
      assert.deepEqual(await usage(keys.test), {
        mode: 'test',
        totalQuota: 1000,
        usedQuota: 600,
        remainingQuota: 400,
        percentUsed: 60,
        fileCount: 1,
      });

      const refused = await upload(stack.url, 'q', 'y'.repeat(600), { key: keys.test });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'QUOTA_EXCEEDED');
      assert.equal(refused.body.message, 'Test storage quota exceeded');
      assert.match(refused.body.suggestion, /quota\.testStorage/);
      const put = await call(stack.url, '/upload/q/y.txt', {
        method: 'PUT',
        key: keys.test,
        body: 'y'.repeat(600),
      });
      assert.equal(put.status, 403);

      const live = await upload(stack.url, 'q', 'z'.repeat(1500), { key: keys.live });
      assert.equal(live.status, 201, 'the live quota is all there');
      assert.equal((await usage(keys.live)).usedQuota, 1500);
      assert.equal((await usage(keys.test)).usedQuota, 600);
      const overLive = await upload(stack.url, 'q', 'z'.repeat(600), { key: keys.live });
      assert.equal(overLive.status, 403);
      assert.equal(overLive.body.message, 'Storage quota exceeded');

      const [testFile] = (await listed(keys.test, 'q')).keys;
      await call(stack.url, '/files/delete', {
        method: 'POST',
        key: keys.test,
        json: { bucket: 'q', key: testFile },
      });
      assert.equal((await usage(keys.test)).usedQuota, 0);
      assert.equal((await usage(keys.live)).usedQuota, 1500);
      for (const mode of MODES)
        assert.equal((await getUsage(stack.db.pool, tenant.id, mode))?.reservedBytes, 0);
    });

    it('describes the test quota in /tenant and the mode in the OpenAPI document', async () => {
      const { keys } = await sandboxed({ quota: { testStorage: '5Mi' } });
      const res = await call(stack.url, '/tenant', { key: keys.test });
      assert.equal(res.body.tenant.quota.testStorage, 5 * 2 ** 20);
      const { body } = await call(stack.url, '/openapi.json');
      assert.deepEqual(body.components.schemas.File.properties.mode.enum, ['live', 'test']);
      assert.ok(body.components.schemas.UploadedFile.properties.file.properties.expiresAt);
    });
  });
}
