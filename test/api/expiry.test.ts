import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { getUsage } from '@stowage/core';
import { sweepOnce } from '@stowage/api';
import { processVariantJob } from '@stowage/image-worker';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';

/** Short, so a test file's end comes within the test; long enough to look at it before. */
const TEST_FILE_TTL_SECONDS = 5;

/** Waits until `iso` (a file's expiresAt) has passed. */
const past = (iso: string) => sleep(Math.max(0, Date.parse(iso) - Date.now()) + 100);

for (const backend of stackBackends) {
  describe(`file expiry on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create({ TEST_FILE_TTL: String(TEST_FILE_TTL_SECONDS) });
    });
    after(() => stack.close());

    const metadata = async (key: string, bucket: string, file: string) =>
      call(stack.url, `/files/${bucket}/${file}`, { key });
    /** Seconds between a file's upload and its expiry, as its metadata says. */
    const lifetime = async (key: string, bucket: string, file: string) => {
      const { body } = await metadata(key, bucket, file);
      return body.file.expiresAt === null
        ? null
        : (Date.parse(body.file.expiresAt) - Date.parse(body.file.createdAt)) / 1000;
    };
    const served = (tenantId: string, bucket: string, filename: string, method = 'GET') =>
      fetch(`${stack.url}/${tenantId}/${bucket}/${filename}`, { method });

    it("expires files by their bucket's expireAfter: 404 at once, deleted by the sweep", async () => {
      const tenant = await stack.createTenant({ buckets: [{ name: 'tmp', expireAfter: '2s' }] });
      const kept = await upload(stack.url, 'keep', 'kept', { key: tenant.key });
      const brief = await upload(stack.url, 'tmp', 'brief', { key: tenant.key });
      assert.equal(brief.status, 201);
      assert.equal(kept.body.file.expiresAt, null);
      assert.equal(await lifetime(tenant.key, 'tmp', brief.body.file.key), 2);
      const { key } = brief.body.file;
      const signedBefore = await call(stack.url, '/files/signed-url', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'tmp', key },
      });
      assert.equal(signedBefore.status, 200);

      await past(brief.body.file.expiresAt);
      assert.equal((await served(tenant.id, 'tmp', key)).status, 404, 'served');
      assert.equal((await served(tenant.id, 'tmp', key, 'HEAD')).status, 404, 'HEAD');
      const viaSignature = await fetch(signedBefore.body.url.replace('http://files.test', stack.url));
      assert.equal(viaSignature.status, 404, 'a URL signed before the expiry');
      assert.equal((await metadata(tenant.key, 'tmp', key)).status, 404, 'metadata');
      const listing = await call(stack.url, '/files/tmp', { key: tenant.key });
      assert.deepEqual([listing.status, listing.body.files], [200, []], 'listing');
      const signed = await call(stack.url, '/files/signed-url', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'tmp', key },
      });
      assert.equal(signed.status, 404, 'signing');

      await sweepOnce(stack.deps);
      assert.deepEqual(await stack.storedObjects(tenant.storageBucket), [`keep/${kept.body.file.key}`]);
      const usage = (await getUsage(stack.db.pool, tenant.id))!;
      assert.deepEqual([usage.usedBytes, usage.fileCount], ['kept'.length, 1], 'the quota is settled');
      assert.equal((await served(tenant.id, 'keep', kept.body.file.key)).status, 200);
    });

    it('takes expiresIn from a form field, a query parameter and a direct upload body', async () => {
      const tenant = await stack.createTenant();
      const form = await upload(stack.url, 'in', 'form', { key: tenant.key, fields: { expiresIn: '60' } });
      assert.equal(form.status, 201);
      assert.equal(await lifetime(tenant.key, 'in', form.body.file.key), 60);
      const put = await call(stack.url, '/upload/in/x.txt?expiresIn=3600', {
        method: 'PUT',
        key: tenant.key,
        body: 'put',
      });
      assert.equal(put.status, 201);
      assert.equal(await lifetime(tenant.key, 'in', put.body.file.key), 3600);

      const brief = await upload(stack.url, 'in', 'brief', { key: tenant.key, fields: { expiresIn: '1' } });
      await past(brief.body.file.expiresAt);
      assert.equal((await served(tenant.id, 'in', brief.body.file.key)).status, 404);
      await sweepOnce(stack.deps);
      assert.equal((await getUsage(stack.db.pool, tenant.id))?.fileCount, 2);

      for (const bad of ['0', '-1', '1.5', 'soon', '1000000000']) {
        const viaForm = await upload(stack.url, 'in', 'x', { key: tenant.key, fields: { expiresIn: bad } });
        assert.equal(viaForm.status, 400, bad);
        assert.deepEqual(
          viaForm.body.fields.map((f: { path: string }) => f.path),
          ['body.expiresIn'],
        );
        const viaQuery = await call(stack.url, `/upload/in/x.txt?expiresIn=${bad}`, {
          method: 'PUT',
          key: tenant.key,
          body: 'x',
        });
        assert.equal(viaQuery.body.fields[0].path, 'query.expiresIn', bad);
      }
      const direct = await call(stack.url, '/uploads/in', {
        method: 'POST',
        key: tenant.key,
        json: { filename: 'x.bin', size: 10, expiresIn: 0 },
      });
      assert.deepEqual(direct.body.fields, [
        { path: 'body.expiresIn', message: 'must be a whole number of seconds from 1 to 999999999' },
      ]);
      assert.equal(
        (await getUsage(stack.db.pool, tenant.id))?.fileCount,
        2,
        'nothing of the bad ones stored',
      );
    });

    it('gives a file the soonest of the lifetimes that apply: an upload never outlives its bucket', async () => {
      const tenant = await stack.createTenant({
        buckets: [
          { name: 'hour', expireAfter: '1h' },
          { name: 'day', expireAfter: '1d' },
        ],
      });
      const test = await tenant.mintKey(['read', 'write'], { mode: 'test' });
      const cases = [
        { bucket: 'hour', key: tenant.key, expiresIn: '60', lifetime: 60 },
        { bucket: 'hour', key: tenant.key, expiresIn: '7200', lifetime: 3600 },
        { bucket: 'day', key: tenant.key, expiresIn: undefined, lifetime: 86_400 },
        { bucket: 'day', key: test, expiresIn: undefined, lifetime: TEST_FILE_TTL_SECONDS },
        { bucket: 'free', key: test, expiresIn: '3600', lifetime: TEST_FILE_TTL_SECONDS },
        { bucket: 'free', key: tenant.key, expiresIn: undefined, lifetime: null },
      ];
      for (const { bucket, key, expiresIn, lifetime: expected } of cases) {
        const fields = expiresIn ? { expiresIn } : undefined;
        const res = await upload(stack.url, bucket, 'x', { key, ...(fields && { fields }) });
        assert.equal(res.status, 201);
        assert.equal(await lifetime(key, bucket, res.body.file.key), expected, JSON.stringify(expiresIn));
      }
    });

    it('deletes a test file with its variants after TEST_FILE_TTL and gives its bytes back', async () => {
      const tenant = await stack.createTenant();
      const test = await tenant.mintKey(['read', 'write'], { mode: 'test' });
      const kept = await upload(stack.url, 'img', 'live and kept', { key: tenant.key });
      const res = await upload(stack.url, 'img', PNG_1X1, { key: test, filename: 'dot.png' });
      assert.equal(res.status, 201);
      const { file } = res.body;
      const limits = { maxInputPixels: 1_000_000, maxInputBytes: 2 ** 20, timeoutSeconds: 30 };
      assert.equal(await processVariantJob({ ...stack.deps, limits }, file.id), 'done');

      const meta = await metadata(test, 'img', file.key);
      assert.equal(meta.body.file.variantStatus, 'ready');
      assert.equal(await lifetime(test, 'img', file.key), TEST_FILE_TTL_SECONDS);
      const stored = await getUsage(stack.db.pool, tenant.id, 'test');
      assert.equal(stored?.fileCount, 1);
      assert.ok(stored!.usedBytes > PNG_1X1.length, 'the variants count against the test quota');
      assert.equal(
        (await stack.storedObjects(tenant.storageBucket)).length,
        5,
        'live file, original, 3 variants',
      );

      await past(file.expiresAt);
      assert.equal((await served(tenant.id, 'img', file.key)).status, 404);
      assert.equal((await served(tenant.id, 'img', `${file.id}-thumb.webp`)).status, 404);
      assert.equal((await metadata(test, 'img', file.key)).status, 404);

      await sweepOnce(stack.deps);
      assert.deepEqual(await stack.storedObjects(tenant.storageBucket), [`img/${kept.body.file.key}`]);
      const sandbox = (await getUsage(stack.db.pool, tenant.id, 'test'))!;
      assert.deepEqual([sandbox.usedBytes, sandbox.reservedBytes, sandbox.fileCount], [0, 0, 0]);
      const live = (await getUsage(stack.db.pool, tenant.id))!;
      assert.deepEqual([live.usedBytes, live.fileCount], ['live and kept'.length, 1], 'live files stay');
      assert.equal((await sweepOnce(stack.deps)).expired, 0, 'nothing left to expire');
    });
  });
}
