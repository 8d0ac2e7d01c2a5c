import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { hashApiKey, mintKey, storageTenantSpec } from '@stowage/core';
import { provisionTenant } from '@stowage/operator';
import { FileKeyVault } from '../../services/cli/src/file-key-vault.ts';
import { FileWebhookSecretVault } from '../../services/cli/src/file-webhook-secret-vault.ts';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { uniqueName } from '../support/env.ts';
import { call, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The bound the spec gives for a revocation to reach every replica; here also the key cache's lifetime. */
const REVOCATION_BOUND_MS = 2000;
/** Polling probes every 200 ms, so the first probe past the bound may start up to this much later. */
const POLL_SLACK_MS = 500;

for (const backend of stackBackends) {
  describe(`API keys and GET /tenant on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let vaultDir: string;
    before(async () => {
      // The longest key cache allowed, so that a cache serving a key past its end would be seen.
      stack = await backend.create({ KEY_CACHE_TTL_MS: String(REVOCATION_BOUND_MS) });
      tenant = await stack.createTenant();
      vaultDir = await mkdtemp(join(tmpdir(), 'stowage-keys-test-'));
    });
    after(async () => {
      await stack.close();
      await rm(vaultDir, { recursive: true, force: true });
    });

    const mint = (key: string, json: Record<string, unknown>) =>
      call(stack.url, '/keys', { method: 'POST', key, json });
    const revoke = (key: string, id: string) => call(stack.url, `/keys/${id}`, { method: 'DELETE', key });
    const listed = async (key: string) => {
      const res = await call(stack.url, '/keys', { key });
      assert.equal(res.status, 200);
      return res.body.keys as Record<string, unknown>[];
    };
    const status = async (key: string) => (await call(stack.url, '/usage', { key })).status;
    const refusedWithinBound = (key: string) =>
      eventually(
        async () => ((await status(key)) === 401 ? true : undefined),
        'the revoked key to be refused',
        REVOCATION_BOUND_MS + POLL_SLACK_MS,
      );
    /** A tenant declared the way the operator and dev mode declare one, with its keys in a vault. */
    const declaredTenant = async (apiKeys: Record<string, unknown>[]) => {
      const id = uniqueName('decl');
      const vault = new FileKeyVault(join(vaultDir, 'keys.json'), id);
      const provision = async () => {
        const result = await provisionTenant(
          { pool: stack.db.pool, store: stack.store, keyGraceMs: 0 },
          {
            id,
            owner: `dev:${id}.yaml`,
            storageBucket: `${stack.deps.config.s3.bucketPrefix}${id}`,
            spec: storageTenantSpec.parse({ apiKeys }),
            vault,
            webhookSecret: new FileWebhookSecretVault(join(vaultDir, 'webhook-secrets.json'), id),
          },
        );
        assert.equal(result.failure, undefined);
      };
      await provision();
      const keyOf = async (name: string) => (await vault.read(name))!.raw;
      return { id, provision, keyOf };
    };

    // First, so that no earlier request of the suite has a lastUsedAt write still on its way.
    it('records lastUsedAt to the minute, with at most one write a minute', async () => {
      const key = await mintKey(stack.db.pool, {
        tenantId: tenant.id,
        name: uniqueName('used'),
        scopes: ['read'],
        mode: 'test',
      });
      // Counts UPDATE statements on api_keys, even those that change no row.
      await stack.db.pool.query(`
        CREATE TABLE key_updates (n int);
        CREATE FUNCTION count_key_update() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN INSERT INTO key_updates VALUES (1); RETURN NULL; END $$;
        CREATE TRIGGER count_key_updates AFTER UPDATE ON api_keys
          FOR EACH STATEMENT EXECUTE FUNCTION count_key_update();`);
      try {
        const minute = () => Math.floor(Date.now() / 60_000);
        const first = minute();
        for (let i = 0; i < 10; i++) assert.equal(await status(key.raw), 200);
        const lastUsed = await eventually(async () => {
          const { rows } = await stack.db.pool.query<{ last_used_at: Date | null }>(
            'SELECT last_used_at FROM api_keys WHERE id = $1',
            [key.id],
          );
          return rows[0]!.last_used_at ?? undefined;
        }, 'lastUsedAt to be written');
        const last = minute();
        const { rows } = await stack.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM key_updates');
        const writes = Number(rows[0]!.n);
        assert.ok(
          writes >= 1 && writes <= last - first + 1,
          `${writes} writes in ${last - first + 1} minute(s)`,
        );
        assert.equal(lastUsed.getTime() % 60_000, 0, 'to the minute');
        assert.ok(lastUsed.getTime() >= first * 60_000 && lastUsed.getTime() <= last * 60_000);
      } finally {
        await stack.db.pool.query(
          'DROP TRIGGER count_key_updates ON api_keys; DROP FUNCTION count_key_update(); DROP TABLE key_updates',
        );
      }
      const entry = (await listed(tenant.key)).find((k) => k.id === key.id);
      assert.match(String(entry?.lastUsedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/);
    });

    it('mints a key that works at once, shown once, and lists keys without their secrets', async () => {
      const res = await mint(tenant.key, {
        name: 'ci',
        scopes: ['write', 'read', 'write'],
        mode: 'test',
        allowedOrigins: ['https://ci.example'],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const { apiKey, key } = res.body;
      assert.match(apiKey, /^stw_test_[0-9A-Za-z]{38}$/);
      assert.match(key.id, UUID);
      assert.ok(Date.parse(key.createdAt) <= Date.now());
      assert.deepEqual(key, {
        id: key.id,
        name: 'ci',
        prefix: apiKey.slice(0, 13),
        scopes: ['read', 'write'],
        mode: 'test',
        source: 'api',
        allowedOrigins: ['https://ci.example'],
        createdAt: key.createdAt,
        lastUsedAt: null,
        expiresAt: null,
      });

      const uploaded = await upload(stack.url, 'ci', 'made by ci', { key: apiKey });
      assert.equal(uploaded.status, 201, 'the new key works at once, with its scopes');
      const denied = await call(stack.url, '/usage', {
        key: apiKey,
        headers: { origin: 'https://x.example' },
      });
      assert.equal(denied.status, 403, 'and its own allowed origins');

      const listing = await call(stack.url, '/keys', { key: tenant.key });
      assert.equal(listing.status, 200);
      const names = listing.body.keys.map((k: { name: string }) => k.name);
      assert.equal(names[0], 'every-scope');
      assert.equal(names.at(-1), 'ci', 'oldest first');
      assert.deepEqual(
        { ...listing.body.keys.at(-1), lastUsedAt: null },
        key,
        'listed as minted (lastUsedAt aside)',
      );
      const hash = hashApiKey(apiKey);
      for (const text of [JSON.stringify(listing.body), JSON.stringify(res.body.key)]) {
        assert.ok(!text.includes(apiKey) && !text.includes(apiKey.slice(13)), 'no secret');
        assert.ok(!text.includes(hash.toString('hex')) && !text.includes(hash.toString('base64')), 'no hash');
        assert.ok(!text.includes(tenant.key.slice(13)));
      }
    });

    it('refuses invalid requests and names already taken, with fields', async () => {
      const invalid = await mint(tenant.key, {
        name: 'Bad Name',
        scopes: ['root'],
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      });
      assert.equal(invalid.status, 400);
      assert.deepEqual(invalid.body.fields.map((f: { path: string }) => f.path).sort(), [
        'body.expiresAt',
        'body.mode',
        'body.name',
        'body.scopes.0',
      ]);
      assert.equal(
        invalid.body.fields.find((f: { path: string }) => f.path === 'body.expiresAt').message,
        'must be in the future',
      );
      assert.equal((await mint(tenant.key, { name: 'x', scopes: [], mode: 'test' })).status, 400);
      // Found by the fuzzer: a NUL in an origin reached the database and answered 500.
      for (const origin of [
        'http://a\u0000b',
        'https://\u00e9t\u00e9.example',
        'https://a b',
        'https://a/b',
      ]) {
        const odd = await mint(tenant.key, {
          name: 'x',
          scopes: ['read'],
          mode: 'test',
          allowedOrigins: [origin],
        });
        assert.equal(odd.status, 400, JSON.stringify(origin));
        assert.equal(odd.body.fields[0].path, 'body.allowedOrigins.0');
      }

      const request = { name: uniqueName('dup'), scopes: ['read'], mode: 'test' };
      assert.equal((await mint(tenant.key, request)).status, 201);
      const taken = await mint(tenant.key, request);
      assert.equal(taken.status, 400);
      assert.deepEqual(taken.body.fields, [
        { path: 'body.name', message: `the tenant already has an active key named ${request.name}` },
      ]);
      const other = await stack.createTenant();
      assert.equal((await mint(other.key, request)).status, 201, 'names are per tenant');
    });

    it('lets a key mint only keys that can do no more than itself', async () => {
      const reader = await tenant.mintKey(['read']);
      const byReader = await mint(reader, { name: uniqueName('r'), scopes: ['read'], mode: 'test' });
      assert.equal(byReader.status, 403, 'minting takes the admin scope');

      const tester = await tenant.mintKey(['admin'], { mode: 'test' });
      const live = await mint(tester, { name: uniqueName('l'), scopes: ['read'], mode: 'live' });
      assert.equal(live.status, 403);
      assert.deepEqual(
        { message: live.body.message, suggestion: live.body.suggestion },
        {
          message: 'A test key cannot mint live keys',
          suggestion: 'Mint live keys with a live key that has the admin scope.',
        },
      );
      const admin = await tenant.mintKey(['admin']);
      const byLive = await mint(admin, {
        name: uniqueName('l'),
        scopes: ['read', 'write', 'admin'],
        mode: 'live',
      });
      assert.equal(byLive.status, 201, 'an admin key grants every scope; a live key mints live keys');

      const end = new Date(Date.now() + 3_600_000);
      const ending = await mint(admin, {
        name: uniqueName('e'),
        scopes: ['admin'],
        mode: 'live',
        expiresAt: end.toISOString(),
      });
      assert.equal(ending.status, 201);
      assert.equal(ending.body.key.expiresAt, end.toISOString());
      const forever = await mint(ending.body.apiKey, {
        name: uniqueName('f'),
        scopes: ['read'],
        mode: 'live',
      });
      assert.equal(forever.status, 403, 'a key cannot mint a key that outlives it');
      assert.equal(forever.body.suggestion, `Pass an expiresAt no later than ${end.toISOString()}.`);
      const shorter = await mint(ending.body.apiKey, {
        name: uniqueName('s'),
        scopes: ['read'],
        mode: 'live',
        expiresAt: new Date(end.getTime() - 1000).toISOString(),
      });
      assert.equal(shorter.status, 201);
    });

    it('revokes a key idempotently, and only keys of the caller tenant', async () => {
      const minted = await mint(tenant.key, { name: uniqueName('gone'), scopes: ['read'], mode: 'test' });
      const { id } = minted.body.key;
      assert.equal(await status(minted.body.apiKey), 200); // cached now

      const first = await revoke(tenant.key, id);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, {
        success: true,
        message: 'API key revoked',
        id,
        revokedAt: first.body.revokedAt,
      });
      await refusedWithinBound(minted.body.apiKey);
      const again = await revoke(tenant.key, id);
      assert.deepEqual(again.body, first.body, 'idempotent: the same answer, the first revocation time');
      assert.ok(!(await listed(tenant.key)).some((k) => k.id === id), 'revoked keys are not listed');

      const other = await stack.createTenant();
      const theirs = await mint(other.key, { name: 'theirs', scopes: ['read'], mode: 'test' });
      const foreign = await revoke(tenant.key, theirs.body.key.id);
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.code, 'FILE_NOT_FOUND');
      assert.equal(foreign.body.message, 'API key not found');
      assert.equal(await status(theirs.body.apiKey), 200, "another tenant's key is untouched");
      assert.equal((await revoke(tenant.key, '00000000-0000-4000-8000-000000000000')).status, 404);
      const malformed = await revoke(tenant.key, 'not-a-uuid');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.fields[0].path, 'params.id');
      const reader = await tenant.mintKey(['read']);
      assert.equal((await revoke(reader, theirs.body.key.id)).status, 403, 'revoking takes the admin scope');
    });

    it('lets a key revoke itself: that request succeeds, later ones do not', async () => {
      const self = await mint(tenant.key, { name: uniqueName('self'), scopes: ['admin'], mode: 'test' });
      const res = await revoke(self.body.apiKey, self.body.key.id);
      assert.equal(res.status, 200);
      await refusedWithinBound(self.body.apiKey);
    });

    it('lists declared keys as resource keys, which only their StorageTenant revokes', async () => {
      const declared = await declaredTenant([{ name: 'backend', scopes: ['admin'] }]);
      const admin = await declared.keyOf('backend');
      const [backend] = await listed(admin);
      assert.deepEqual(
        { name: backend!.name, source: backend!.source, mode: backend!.mode, expiresAt: backend!.expiresAt },
        { name: 'backend', source: 'resource', mode: 'live', expiresAt: null },
      );
      const refused = await revoke(admin, String(backend!.id));
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'FORBIDDEN');
      assert.match(refused.body.message, /StorageTenant/);
      assert.match(refused.body.suggestion, /spec\.apiKeys/);
      assert.equal(await status(admin), 200, 'the declared key still works');

      const clash = await mint(admin, { name: 'backend', scopes: ['read'], mode: 'live' });
      assert.equal(clash.status, 400, "a declared key's name is taken");
      const minted = await mint(admin, { name: 'script', scopes: ['read'], mode: 'live' });
      assert.equal(minted.status, 201);
      await declared.provision(); // the next reconcile
      assert.equal(await status(minted.body.apiKey), 200, 'the operator leaves API keys alone');
      assert.deepEqual(
        (await listed(admin)).map((k) => `${k.name}:${k.source}`),
        ['backend:resource', 'script:api'],
      );
    });

    it('refuses a key past its expiry at once, cached or not', async () => {
      const expiresAt = new Date(Date.now() + 1500);
      const res = await mint(tenant.key, {
        name: uniqueName('brief'),
        scopes: ['read'],
        mode: 'test',
        expiresAt: expiresAt.toISOString(),
      });
      assert.equal(res.status, 201);
      assert.equal(await status(res.body.apiKey), 200, 'works before its expiry (and is cached now)');
      await sleep(expiresAt.getTime() - Date.now() + 1);
      assert.equal(await status(res.body.apiKey), 401, 'the cache does not outlive the key');
      const entry = (await listed(tenant.key)).find((k) => k.id === res.body.key.id);
      assert.equal(entry?.expiresAt, expiresAt.toISOString(), 'listed, with its expiry, until revoked');

      const expired = await mintKey(stack.db.pool, {
        tenantId: tenant.id,
        name: uniqueName('old'),
        scopes: ['read'],
        mode: 'test',
        expiresAt: new Date(Date.now() - 1000),
      });
      const refused = await call(stack.url, '/usage', { key: expired.raw });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.message, 'Invalid or missing API key', 'like any bad key');
    });

    it('describes the tenant, byte quantities in bytes', async () => {
      const t = await stack.createTenant({
        displayName: 'Acme Inc.',
        quota: { storage: '1Gi', maxFileSize: '100Mi', testStorage: '10Mi' },
        rateLimits: { upload: 7 },
        allowedOrigins: ['https://app.acme.com'],
        buckets: [
          { name: 'avatars', public: true, allowedTypes: ['image/*'] },
          { name: 'contracts', public: false, expireAfter: '30d' },
        ],
      });
      await upload(stack.url, 'made-by-upload', 'x', { key: t.key });
      const reader = await t.mintKey(['read']);
      const res = await call(stack.url, '/tenant', { key: reader });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        success: true,
        tenant: {
          tenantId: t.id,
          displayName: 'Acme Inc.',
          quota: { storage: 2 ** 30, maxFileSize: 100 * 2 ** 20, testStorage: 10 * 2 ** 20 },
          rateLimits: { upload: 7, list: 120, delete: 50, usage: 100 },
          allowedOrigins: ['https://app.acme.com'],
          buckets: [
            { name: 'avatars', public: true, allowedTypes: ['image/*'], expireAfter: null },
            { name: 'contracts', public: false, allowedTypes: [], expireAfter: 30 * 86_400 },
          ],
          storage: 'managed',
        },
      });

      const huge = await stack.createTenant({ quota: { maxFileSize: '1Ti' } });
      const limited = await call(stack.url, '/tenant', { key: huge.key });
      assert.equal(
        limited.body.tenant.quota.maxFileSize,
        stack.deps.config.maxFileSizeLimit,
        "the installation's limit bounds the tenant's",
      );
    });

    it('documents the routes in the OpenAPI document', async () => {
      const { body } = await call(stack.url, '/openapi.json');
      assert.deepEqual(Object.keys(body.paths['/keys']).sort(), ['get', 'post']);
      assert.equal(body.paths['/keys/{id}'].delete['x-stowage-scope'], 'admin');
      assert.equal(body.paths['/tenant'].get['x-stowage-scope'], 'read');
      assert.ok(body.components.schemas.ApiKey);
    });
  });
}
