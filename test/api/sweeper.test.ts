import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { getUsage, reserveQuota } from '@stowage/core';
import { sweepOnce } from '@stowage/api';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';

for (const backend of stackBackends) {
  describe(`the sweeper on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create();
    });
    after(() => stack.close());

    it('cleans up after a writer that crashed mid-upload, and only after it', async () => {
      const tenant = await stack.createTenant();
      const dead = 'docs/11111111-1111-4111-8111-111111111111.bin';
      const alive = 'docs/22222222-2222-4222-8222-222222222222.bin';
      // The crashed writer: its reservation expired, a half-written object and an unfinished upload remain.
      await reserveQuota(stack.db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 5000,
        objectKey: dead,
        ttlMs: -1,
      });
      await stack.store.put({
        bucket: tenant.storageBucket,
        key: dead,
        body: Readable.from([Buffer.alloc(10)]),
        contentType: 'application/octet-stream',
      });
      await stack.leaveStaleUpload(tenant.storageBucket, dead);
      // A live writer: its reservation is being renewed and its upload is in progress.
      await reserveQuota(stack.db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 700,
        objectKey: alive,
        ttlMs: 60_000,
      });
      await stack.leaveStaleUpload(tenant.storageBucket, alive);

      const swept = await sweepOnce(stack.deps);
      assert.ok(swept.reservations >= 1);
      assert.equal((await getUsage(stack.db.pool, tenant.id))?.reservedBytes, 700);
      const left = await stack.storedObjects(tenant.storageBucket);
      assert.equal(left.length, 1, left.join(', '));
      assert.match(left[0]!, /^incoming:/);
      assert.ok(!left.some((k) => k.includes('11111111')), 'nothing of the dead writer remains');

      const again = await sweepOnce(stack.deps);
      assert.equal(again.reservations, 0, 'idempotent');
      assert.equal((await stack.storedObjects(tenant.storageBucket)).length, 1);
    });
  });
}
