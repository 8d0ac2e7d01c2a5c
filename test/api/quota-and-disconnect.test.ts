import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { getUsage } from '@stowage/core';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { uploadReserving } from '../support/tenant.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

for (const backend of stackBackends) {
  describe(`quota races and disconnects on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create();
    });
    after(() => stack.close());

    for (const { size, quota } of [
      { size: 100 * KiB, quota: MiB }, // the quota is far below one reservation step: exact growth
      { size: 3 * MiB, quota: 40 * MiB }, // steps larger than each file race for the rest
    ]) {
      it(`25 parallel uploads of ${size / KiB} KiB never push usage past a ${quota / MiB} MiB quota`, async () => {
        const tenant = await stack.createTenant({ quota: { storage: quota } });
        const results = await Promise.all(
          Array.from({ length: 25 }, () => upload(stack.url, 'race', randomBytes(size), { key: tenant.key })),
        );
        const stored = results.filter((r) => r.status === 201);
        for (const r of results.filter((r) => r.status !== 201)) {
          assert.equal(r.status, 403);
          assert.equal(r.body.code, 'QUOTA_EXCEEDED');
        }
        const usage = (await getUsage(stack.db.pool, tenant.id))!;
        assert.ok(usage.usedBytes <= quota, `${usage.usedBytes} > ${quota}`);
        assert.equal(usage.usedBytes, stored.length * size);
        assert.equal(usage.reservedBytes, 0);
        assert.equal(usage.fileCount, stored.length);
        assert.ok(stored.length >= 1);
        assert.ok(stored.length <= Math.floor(quota / size));
        assert.equal((await stack.storedObjects(tenant.storageBucket)).length, stored.length);
      });
    }

    it('keeps usage, rows and objects consistent when a bucket is deleted while uploads land in it', async () => {
      const tenant = await stack.createTenant();
      await upload(stack.url, 'busy', 'already there', { key: tenant.key });
      const racing = Array.from({ length: 12 }, (_, i) =>
        upload(stack.url, 'busy', randomBytes(20_000 + i), { key: tenant.key }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const deleted = await call(stack.url, '/files/delete-bucket', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'busy' },
      });
      assert.equal(deleted.status, 200);
      for (const r of await Promise.all(racing)) assert.equal(r.status, 201);

      const { rows } = await stack.db.pool.query<{ key: string; size: string }>(
        'SELECT key, size FROM files WHERE tenant_id = $1',
        [tenant.id],
      );
      const usage = (await getUsage(stack.db.pool, tenant.id))!;
      assert.equal(usage.fileCount, rows.length);
      assert.equal(
        usage.usedBytes,
        rows.reduce((sum, r) => sum + Number(r.size), 0),
      );
      assert.equal(usage.reservedBytes, 0);
      const objects = (await stack.storedObjects(tenant.storageBucket)).sort();
      assert.deepEqual(
        objects,
        rows.map((r) => `busy/${r.key}`).sort(),
        'every row has its object and no object lacks a row',
      );
    });

    it('leaves nothing behind when the client goes away after the file but before the form ends', async () => {
      const tenant = await stack.createTenant();
      const boundary = 'after-file-boundary';
      const req = request(new URL('/upload/abandoned', stack.url), {
        method: 'POST',
        headers: { 'x-api-key': tenant.key, 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      req.on('error', () => {});
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n`);
      req.write(randomBytes(12_000));
      req.write(`\r\n--${boundary}\r\n`); // the file part is complete; the form is not
      await eventually(async () => {
        const objects = await stack.storedObjects(tenant.storageBucket);
        return objects.some((o) => !o.startsWith('incoming:')) ? true : undefined;
      }, 'the file to be stored');
      req.destroy();
      await eventually(async () => {
        const usage = (await getUsage(stack.db.pool, tenant.id))!;
        const objects = await stack.storedObjects(tenant.storageBucket);
        return usage.reservedBytes === 0 && objects.length === 0 ? true : undefined;
      }, 'the abandoned form to be cleaned up');
      assert.equal((await getUsage(stack.db.pool, tenant.id))?.usedBytes, 0);
    });

    it('leaves no reservation, object or row behind when the client disconnects mid-upload', async () => {
      const tenant = await stack.createTenant();
      const boundary = 'disconnect-boundary';
      const url = new URL('/upload/abandoned', stack.url);
      const req = request(url, {
        method: 'POST',
        headers: {
          'x-api-key': tenant.key,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(64 * MiB), // a promise the client will not keep
        },
      });
      req.on('error', () => {}); // the socket is destroyed on purpose
      req.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      );
      for (let i = 0; i < 20; i++) req.write(randomBytes(256 * KiB));
      await uploadReserving(stack.db.pool, tenant.id);
      req.destroy();

      await eventually(async () => {
        const usage = (await getUsage(stack.db.pool, tenant.id))!;
        const reservations = await stack.db.pool.query(
          'SELECT 1 FROM quota_reservations WHERE tenant_id = $1',
          [tenant.id],
        );
        const objects = await stack.storedObjects(tenant.storageBucket);
        return usage.reservedBytes === 0 && reservations.rowCount === 0 && objects.length === 0
          ? true
          : undefined;
      }, 'the abandoned upload to be cleaned up');
      const usage = (await getUsage(stack.db.pool, tenant.id))!;
      assert.deepEqual([usage.usedBytes, usage.fileCount], [0, 0]);
      const rows = await stack.db.pool.query('SELECT 1 FROM files WHERE tenant_id = $1', [tenant.id]);
      assert.equal(rows.rowCount, 0);
    });
  });
}
