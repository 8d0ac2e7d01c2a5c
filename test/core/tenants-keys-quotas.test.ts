import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  applyTenant,
  extendReservation,
  findKey,
  getUsage,
  listActiveKeys,
  mintKey,
  mintUniquelyNamedKey,
  recordKeyUse,
  releaseExpiredReservations,
  releaseReservation,
  renewReservation,
  reserveQuota,
  revokeKey,
  rotateKey,
  settleReservation,
  storageTenantSpec,
  withTransaction,
  type ApplyTenantResult,
} from '@stowage/core';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { uniqueName } from '../support/env.ts';

function created(result: ApplyTenantResult) {
  assert.notEqual(result.outcome, 'conflict');
  return result as Exclude<ApplyTenantResult, { outcome: 'conflict' }>;
}

for (const backend of databaseBackends) {
  describe(`tenants, keys and quotas on ${backend.name}`, () => {
    let db: TestDatabase;
    before(async () => {
      db = await backend.create();
    });
    after(() => db.drop());

    const newTenant = async (spec: Record<string, unknown> = {}) => {
      const id = uniqueName('t');
      const result = await applyTenant(db.pool, {
        id,
        owner: 'test',
        storageBucket: `stowage-${id}`,
        spec: storageTenantSpec.parse(spec),
      });
      return created(result).tenant;
    };

    it('creates a tenant with defaults, then updates it in place', async () => {
      const id = uniqueName('acme');
      const input = { id, owner: 'k8s:uid-1', storageBucket: `stowage-${id}` };
      const first = created(await applyTenant(db.pool, { ...input, spec: storageTenantSpec.parse({}) }));
      assert.equal(first.outcome, 'created');
      assert.equal(first.tenant.quotaBytes, 10 * 2 ** 30);
      assert.equal(first.tenant.testQuotaBytes, 2 ** 30);
      assert.deepEqual(first.tenant.rateLimits, { upload: 120, list: 120, delete: 50, usage: 100 });

      const spec = storageTenantSpec.parse({
        displayName: 'Acme',
        quota: { storage: '1Gi', maxFileSize: '100Mi', testStorage: '10Mi' },
        rateLimits: { upload: 5 },
        allowedOrigins: ['https://app.acme.com'],
      });
      const second = created(await applyTenant(db.pool, { ...input, spec }));
      assert.equal(second.outcome, 'updated');
      assert.deepEqual(second.tenant, {
        id,
        owner: 'k8s:uid-1',
        displayName: 'Acme',
        storageBucket: `stowage-${id}`,
        quotaBytes: 2 ** 30,
        testQuotaBytes: 10 * 2 ** 20,
        maxFileSize: 100 * 2 ** 20,
        rateLimits: { upload: 5, list: 120, delete: 50, usage: 100 },
        allowedOrigins: ['https://app.acme.com'],
      });
      assert.equal((await applyTenant(db.pool, { ...input, spec })).outcome, 'updated', 'idempotent');
    });

    it('does not let a second owner take a tenant id', async () => {
      const id = uniqueName('taken');
      const spec = storageTenantSpec.parse({ displayName: 'first' });
      await applyTenant(db.pool, { id, owner: 'first', storageBucket: `stowage-${id}`, spec });
      const result = await applyTenant(db.pool, {
        id,
        owner: 'second',
        storageBucket: `stowage-${id}`,
        spec: storageTenantSpec.parse({ displayName: 'second' }),
      });
      assert.deepEqual(result, { outcome: 'conflict', owner: 'first' });
      const { rows } = await db.pool.query('SELECT display_name FROM tenants WHERE id = $1', [id]);
      assert.equal(rows[0].display_name, 'first');
    });

    it('keeps declared buckets in step with the spec', async () => {
      const id = uniqueName('b');
      const input = { id, owner: 'o', storageBucket: `stowage-${id}` };
      const buckets = async () =>
        (
          await db.pool.query(
            `SELECT name, public_default, allowed_types, expire_after_seconds::int AS expire_after, declared
             FROM buckets WHERE tenant_id = $1 ORDER BY name`,
            [id],
          )
        ).rows;
      await applyTenant(db.pool, {
        ...input,
        spec: storageTenantSpec.parse({
          buckets: [
            { name: 'avatars', public: true, allowedTypes: ['image/*'] },
            { name: 'private', public: false, expireAfter: '30d' },
          ],
        }),
      });
      assert.deepEqual(await buckets(), [
        {
          name: 'avatars',
          public_default: true,
          allowed_types: ['image/*'],
          expire_after: null,
          declared: true,
        },
        {
          name: 'private',
          public_default: false,
          allowed_types: [],
          expire_after: 30 * 86_400,
          declared: true,
        },
      ]);
      await applyTenant(db.pool, {
        ...input,
        spec: storageTenantSpec.parse({ buckets: [{ name: 'avatars' }] }),
      });
      assert.deepEqual(await buckets(), [
        { name: 'avatars', public_default: true, allowed_types: [], expire_after: null, declared: true },
        { name: 'private', public_default: true, allowed_types: [], expire_after: null, declared: false },
      ]);
    });

    it('stores keys only as hashes and finds them by the raw key', async () => {
      const tenant = await newTenant({ allowedOrigins: ['https://a.example'] });
      const key = await mintKey(db.pool, {
        tenantId: tenant.id,
        name: 'backend',
        scopes: ['read', 'write'],
        mode: 'live',
      });
      const { rows } = await db.pool.query('SELECT * FROM api_keys WHERE id = $1', [key.id]);
      assert.ok(!JSON.stringify(rows).includes(key.raw.slice(13)), 'the secret part is not stored');
      assert.equal(rows[0].key_hash.length, 32);

      assert.deepEqual(await findKey(db.pool, key.raw), {
        keyId: key.id,
        tenantId: tenant.id,
        scopes: ['read', 'write'],
        mode: 'live',
        allowedOrigins: ['https://a.example'],
        validUntil: null,
      });
      const own = await mintKey(db.pool, {
        tenantId: tenant.id,
        name: 'web',
        scopes: ['read'],
        mode: 'test',
        allowedOrigins: ['https://b.example'],
      });
      assert.deepEqual((await findKey(db.pool, own.raw))?.allowedOrigins, ['https://b.example']);
      const forged = key.raw.slice(0, 20) + (key.raw[20] === 'x' ? 'y' : 'x') + key.raw.slice(21);
      assert.equal(await findKey(db.pool, forged), undefined, 'same prefix, different secret');
    });

    it('revokes a key at once, or after the grace period of a rotation', async () => {
      const tenant = await newTenant();
      const input = { tenantId: tenant.id, name: 'k', scopes: ['read' as const], mode: 'live' as const };
      const key = await mintKey(db.pool, input);
      await revokeKey(db.pool, key.id);
      assert.equal(await findKey(db.pool, key.raw), undefined);
      await revokeKey(db.pool, key.id, new Date(Date.now() + 3_600_000));
      assert.equal(await findKey(db.pool, key.raw), undefined, 'a later revocation does not revive a key');

      const old = await mintKey(db.pool, input);
      const next = await rotateKey(db.pool, old.id, input, 3_600_000);
      assert.deepEqual(
        (await findKey(db.pool, old.raw))?.validUntil,
        new Date(next.createdAt.getTime() + 3_600_000),
        'the old key still works inside the grace period, and says until when',
      );
      assert.ok(await findKey(db.pool, next.raw));
      assert.deepEqual(
        (await listActiveKeys(db.pool, tenant.id)).map((k) => k.id),
        [old.id, next.id],
      );
      const expired = await mintKey(db.pool, input);
      await rotateKey(db.pool, expired.id, input, 0);
      assert.equal(await findKey(db.pool, expired.raw), undefined, 'no grace period: revoked at once');
    });

    it('refuses a key past its expiry, and says when a key expires', async () => {
      const tenant = await newTenant();
      const input = { tenantId: tenant.id, scopes: ['read' as const], mode: 'live' as const };
      const soon = new Date(Date.now() + 3_600_000);
      const later = await mintKey(db.pool, { ...input, name: 'later', expiresAt: soon });
      assert.deepEqual((await findKey(db.pool, later.raw))?.validUntil, soon);
      const past = await mintKey(db.pool, { ...input, name: 'past', expiresAt: new Date(Date.now() - 1000) });
      assert.equal(await findKey(db.pool, past.raw), undefined);
      assert.deepEqual(
        (await listActiveKeys(db.pool, tenant.id)).map((k) => k.name),
        ['later', 'past'],
        'an expired key is still listed until it is revoked',
      );
    });

    it('takes a name once among the active keys of a tenant', async () => {
      const tenant = await newTenant();
      const input = { tenantId: tenant.id, name: 'ci', scopes: ['read' as const], mode: 'live' as const };
      const attempts = await Promise.all([1, 2, 3].map(() => mintUniquelyNamedKey(db.pool, input)));
      const minted = attempts.filter((k) => k !== undefined);
      assert.equal(minted.length, 1, 'concurrent mints of one name: one wins');
      assert.equal(minted[0]!.source, 'api');
      await revokeKey(db.pool, minted[0]!.id);
      assert.ok(await mintUniquelyNamedKey(db.pool, input), 'a revoked key frees its name');
      const other = await newTenant();
      assert.ok(await mintUniquelyNamedKey(db.pool, { ...input, tenantId: other.id }), 'per tenant');
    });

    it('records a use to the minute, and writes nothing for another use in the same minute', async () => {
      const tenant = await newTenant();
      const key = await mintKey(db.pool, { tenantId: tenant.id, name: 'k', scopes: ['read'], mode: 'live' });
      assert.equal(key.lastUsedAt, null);
      const minute = async () =>
        (await db.pool.query<{ m: Date }>(`SELECT date_trunc('minute', now()) AS m`)).rows[0]!.m.getTime();
      // A row's xmin changes with every write to it.
      const version = async () =>
        (await db.pool.query<{ xmin: string }>('SELECT xmin FROM api_keys WHERE id = $1', [key.id])).rows[0]!
          .xmin;
      const before = await minute();
      await recordKeyUse(db.pool, key.id);
      const first = await version();
      await recordKeyUse(db.pool, key.id);
      const second = await version();
      const after = await minute();
      assert.ok(first === second || before !== after, 'the second use (same minute) wrote nothing');
      const [recorded] = await listActiveKeys(db.pool, tenant.id);
      const at = recorded!.lastUsedAt!.getTime();
      assert.ok(at >= before && at <= after);
      assert.equal(at % 60_000, 0, 'to the minute');
    });

    it('never lets concurrent reservations push usage past the quota', async () => {
      const tenant = await newTenant({ quota: { storage: 1000 } });
      const attempts = await Promise.allSettled(
        Array.from({ length: 25 }, () =>
          reserveQuota(db.pool, {
            tenantId: tenant.id,
            mode: 'live',
            bytes: 90,
            objectKey: null,
            ttlMs: 60_000,
          }),
        ),
      );
      const granted = attempts.filter((a) => a.status === 'fulfilled');
      const refused = attempts.filter((a) => a.status === 'rejected');
      assert.equal(granted.length, 11);
      for (const r of refused) assert.equal((r.reason as { code: string }).code, 'QUOTA_EXCEEDED');
      assert.equal((await getUsage(db.pool, tenant.id))?.reservedBytes, 990);
    });

    it('grows, settles and releases reservations exactly', async () => {
      const tenant = await newTenant({ quota: { storage: 100 } });
      const r = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 40,
        objectKey: 'a',
        ttlMs: 60_000,
      });
      await extendReservation(db.pool, r, 50, 60_000);
      await assert.rejects(extendReservation(db.pool, r, 11, 60_000), { code: 'QUOTA_EXCEEDED' });
      assert.equal(r.bytes, 90);
      assert.deepEqual(await getUsage(db.pool, tenant.id), {
        quotaBytes: 100,
        usedBytes: 0,
        reservedBytes: 90,
        fileCount: 0,
      });

      const settled = await withTransaction(db.pool, (client) => settleReservation(client, r, 70, 1));
      assert.equal(settled, true);
      assert.deepEqual(await getUsage(db.pool, tenant.id), {
        quotaBytes: 100,
        usedBytes: 70,
        reservedBytes: 0,
        fileCount: 1,
      });
      assert.equal(await withTransaction(db.pool, (client) => settleReservation(client, r, 70, 1)), false);

      const other = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 30,
        objectKey: 'b',
        ttlMs: 60_000,
      });
      await releaseReservation(db.pool, other.id);
      await releaseReservation(db.pool, other.id);
      assert.equal((await getUsage(db.pool, tenant.id))?.reservedBytes, 0);
      assert.equal((await getUsage(db.pool, tenant.id))?.usedBytes, 70);
    });

    it('grants nothing to a reservation that is gone, and renews without a quota check', async () => {
      const tenant = await newTenant({ quota: { storage: 100 } });
      const gone = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 10,
        objectKey: null,
        ttlMs: 60_000,
      });
      await releaseReservation(db.pool, gone.id);
      await assert.rejects(extendReservation(db.pool, gone, 50, 60_000), { code: 'QUOTA_EXCEEDED' });
      assert.equal(
        (await getUsage(db.pool, tenant.id))?.reservedBytes,
        0,
        'no bytes leaked to a dead reservation',
      );
      assert.equal(await renewReservation(db.pool, gone.id, 60_000), false);

      const full = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 100,
        objectKey: null,
        ttlMs: 60_000,
      });
      await db.pool.query('UPDATE tenants SET quota_bytes = 50 WHERE id = $1', [tenant.id]);
      assert.equal(
        await renewReservation(db.pool, full.id, 60_000),
        true,
        'a lowered quota does not kill it',
      );
      await releaseReservation(db.pool, full.id);
    });

    it('hands expired reservations to the sweeper and releases them', async () => {
      const tenant = await newTenant({ quota: { storage: 100 } });
      const live = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 10,
        objectKey: 'live',
        ttlMs: 60_000,
      });
      const dead = await reserveQuota(db.pool, {
        tenantId: tenant.id,
        mode: 'live',
        bytes: 20,
        objectKey: 'dead',
        ttlMs: -1,
      });
      const released = await withTransaction(db.pool, (client) =>
        releaseExpiredReservations(client, async () => {}),
      );
      const mine = released.filter((r) => r.tenantId === tenant.id);
      assert.deepEqual(mine, [
        { id: dead.id, tenantId: tenant.id, storageBucket: tenant.storageBucket, objectKey: 'dead' },
      ]);
      assert.equal((await getUsage(db.pool, tenant.id))?.reservedBytes, 10);
      await releaseReservation(db.pool, live.id);
    });

    it('keeps the test quota and the live quota apart', async () => {
      const tenant = await newTenant({ quota: { storage: 100, testStorage: 50 } });
      const reserve = (mode: 'live' | 'test', bytes: number) =>
        reserveQuota(db.pool, { tenantId: tenant.id, mode, bytes, objectKey: null, ttlMs: 60_000 });
      const test = await reserve('test', 40);
      await assert.rejects(reserve('test', 11), {
        code: 'QUOTA_EXCEEDED',
        message: 'Test storage quota exceeded',
      });
      await assert.rejects(extendReservation(db.pool, test, 11, 60_000), { code: 'QUOTA_EXCEEDED' });
      const live = await reserve('live', 100);
      assert.equal(await withTransaction(db.pool, (client) => settleReservation(client, test, 30, 1)), true);
      await releaseReservation(db.pool, live.id);
      assert.deepEqual(await getUsage(db.pool, tenant.id, 'test'), {
        quotaBytes: 50,
        usedBytes: 30,
        reservedBytes: 0,
        fileCount: 1,
      });
      assert.deepEqual(await getUsage(db.pool, tenant.id), {
        quotaBytes: 100,
        usedBytes: 0,
        reservedBytes: 0,
        fileCount: 0,
      });
    });
  });
}
