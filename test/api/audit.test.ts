import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AuditWriter, sweepOnce } from '@stowage/api';
import { generateApiKey, hashApiKey, insertAuditEntries, publicPrefix } from '@stowage/core';
import { realBackend, stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { uploadReserving } from '../support/tenant.ts';

const DAY_MS = 24 * 3600 * 1000;
const AGENT = 'audit-test/1.0';

interface Entry {
  id: string;
  at: string;
  action: string;
  status: number;
  mode: string;
  keyPrefix: string | null;
  bucket: string | null;
  key: string | null;
  requestId: string;
  clientAddress: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
}

for (const backend of stackBackends) {
  describe(`audit log on ${backend.name}`, () => {
    let stack: ApiStack;
    /** Every raw key the suite used: none may be found in the table. */
    const rawKeys = new Set<string>();
    before(async () => {
      stack = await backend.create();
    });
    after(() => stack.close());

    const tenantWith = async (spec: Record<string, unknown> = {}) => {
      const tenant = await stack.createTenant(spec);
      rawKeys.add(tenant.key);
      return tenant;
    };
    const mint = async (tenant: TestTenant, ...args: Parameters<TestTenant['mintKey']>) => {
      const key = await tenant.mintKey(...args);
      rawKeys.add(key);
      return key;
    };
    /** A request carrying the test's user agent; resolves to the answer and its request id. */
    const send = async (path: string, init: Parameters<typeof call>[2] = {}) => {
      const res = await call(stack.url, path, { ...init, headers: { 'user-agent': AGENT, ...init.headers } });
      return { ...res, requestId: res.headers.get('x-request-id')! };
    };
    const audit = async (key: string, query = '') => {
      const res = await call(stack.url, `/audit${query}`, { key });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { entries: Entry[]; nextCursor: string | null; hasMore: boolean };
    };
    /** The tenant's entry for a request, once it is written. */
    const entryFor = (key: string, requestId: string) =>
      eventually(
        async () => (await audit(key, '?limit=1000')).entries.find((e) => e.requestId === requestId),
        `the audit entry of ${requestId}`,
      );
    const rowFor = (requestId: string) =>
      eventually(
        async () =>
          (await stack.db.pool.query('SELECT * FROM audit_log WHERE request_id = $1', [requestId]))
            .rows[0] as Record<string, unknown> | undefined,
        `the audit row of ${requestId}`,
      );
    /** What an entry says of the key that made it (a tenant's first key is live, whatever its prefix). */
    const who = (key: string, mode = 'live') => ({ keyPrefix: publicPrefix(key), mode, userAgent: AGENT });
    const pick = (entry: Entry, fields: (keyof Entry)[]) =>
      Object.fromEntries(fields.map((field) => [field, entry[field]]));

    it('records multipart and PUT uploads, edits and deletes in their transactions, with who did them', async () => {
      const tenant = await tenantWith();
      const form = await fetch(`${stack.url}/upload/docs`, {
        method: 'POST',
        headers: { 'x-api-key': tenant.key, 'user-agent': AGENT },
        body: (() => {
          const data = new FormData();
          data.append('file', new Blob(['hello']), 'a.txt');
          return data;
        })(),
      });
      const uploaded = (await form.json()) as { file: { key: string } };
      const put = await send('/upload/docs/b.txt', { method: 'PUT', key: tenant.key, body: 'world!' });
      const patched = await send(`/files/docs/${put.body.file.key}`, {
        method: 'PATCH',
        key: tenant.key,
        json: { tags: ['x'] },
      });
      const deleted = await send('/files/delete', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'docs', key: uploaded.file.key },
      });
      const many = await send('/files/delete-many', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'docs', keys: [put.body.file.key, 'not-a-key'] },
      });
      const bucket = await send('/files/delete-bucket', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'docs' },
      });
      assert.deepEqual(
        [form.status, put.status, patched.status, deleted.status, many.status, bucket.status],
        [201, 201, 200, 200, 200, 200],
      );

      // Written with the change: listed as soon as the answer is in, newest first.
      const { entries } = await audit(tenant.key);
      const fields: (keyof Entry)[] = ['action', 'status', 'bucket', 'key', 'keyPrefix', 'mode', 'userAgent'];
      assert.deepEqual(
        entries.map((e) => pick(e, fields)),
        [
          { action: 'deleteBucket', status: 200, bucket: 'docs', key: null, ...who(tenant.key) },
          { action: 'deleteFiles', status: 200, bucket: 'docs', key: put.body.file.key, ...who(tenant.key) },
          { action: 'deleteFile', status: 200, bucket: 'docs', key: uploaded.file.key, ...who(tenant.key) },
          { action: 'updateFile', status: 200, bucket: 'docs', key: put.body.file.key, ...who(tenant.key) },
          { action: 'putFile', status: 201, bucket: 'docs', key: put.body.file.key, ...who(tenant.key) },
          { action: 'uploadFile', status: 201, bucket: 'docs', key: uploaded.file.key, ...who(tenant.key) },
        ],
      );
      const [ofBucket, ofMany, ofDelete, ofPatch, ofPut, ofUpload] = entries;
      assert.deepEqual(
        [ofBucket, ofMany, ofDelete, ofPatch, ofPut].map((e) => e!.requestId),
        [bucket.requestId, many.requestId, deleted.requestId, patched.requestId, put.requestId],
      );
      assert.equal(ofUpload!.requestId, form.headers.get('x-request-id'));
      assert.deepEqual(ofUpload!.details, {
        id: uploaded.file.key.slice(0, 36),
        size: 5,
        mimetype: 'text/plain',
      });
      assert.deepEqual(ofPatch!.details, { changed: ['tags'] });
      assert.deepEqual(ofDelete!.details, { deleted: [uploaded.file.key] });
      assert.deepEqual(ofMany!.details, { deleted: [put.body.file.key] });
      assert.deepEqual(ofBucket!.details, { filesDeleted: 0 });
      assert.ok(
        entries.every((e) => /^(::ffff:)?127\.0\.0\.1$/.test(e.clientAddress ?? '')),
        'the client address',
      );
    });

    it('records keys minted and revoked, and requests that changed nothing', async () => {
      const tenant = await tenantWith();
      const created = await send('/keys', {
        method: 'POST',
        key: tenant.key,
        json: { name: 'ci', scopes: ['read'], mode: 'live' },
      });
      assert.equal(created.status, 201);
      rawKeys.add(created.body.apiKey);
      const revoked = await send(`/keys/${created.body.key.id}`, { method: 'DELETE', key: tenant.key });
      assert.equal(revoked.status, 200);
      const minted = await entryFor(tenant.key, created.requestId);
      assert.deepEqual(pick(minted, ['action', 'status']), { action: 'createKey', status: 201 });
      assert.deepEqual(minted.details, {
        id: created.body.key.id,
        name: 'ci',
        prefix: created.body.key.prefix,
        scopes: ['read'],
        mode: 'live',
      });
      const revocation = await entryFor(tenant.key, revoked.requestId);
      assert.deepEqual(pick(revocation, ['action', 'status']), { action: 'revokeKey', status: 200 });

      // Deleting what is not there succeeds and changes nothing: logged after the answer.
      const noop = await send('/files/delete', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'docs', key: `${randomUUID()}.txt` },
      });
      assert.equal(noop.status, 200);
      const entry = await entryFor(tenant.key, noop.requestId);
      assert.deepEqual(pick(entry, ['action', 'status', 'bucket', 'details']), {
        action: 'deleteFile',
        status: 200,
        bucket: 'docs',
        details: null,
      });
    });

    it('records failed mutating requests and 403 refusals with the key that made them', async () => {
      const tenant = await tenantWith({ quota: { storage: '10' } });
      const reader = await mint(tenant, ['read']);
      const overQuota = await send('/upload/docs/big.txt', {
        method: 'PUT',
        key: tenant.key,
        body: 'x'.repeat(100),
      });
      const noBucket = await send('/files/delete-bucket', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'nope' },
      });
      const noScope = await send('/files/delete', {
        method: 'POST',
        key: reader,
        json: { bucket: 'docs', key: `${randomUUID()}.txt` },
      });
      const readRefused = await send('/audit', { key: reader });
      assert.deepEqual(
        [overQuota.status, noBucket.status, noScope.status, readRefused.status],
        [403, 404, 403, 403],
      );
      const fields: (keyof Entry)[] = ['action', 'status', 'bucket', 'keyPrefix', 'mode', 'userAgent'];
      assert.deepEqual(pick(await entryFor(tenant.key, overQuota.requestId), fields), {
        action: 'putFile',
        status: 403,
        bucket: 'docs',
        ...who(tenant.key),
      });
      assert.deepEqual(pick(await entryFor(tenant.key, noBucket.requestId), fields), {
        action: 'deleteBucket',
        status: 404,
        bucket: 'nope',
        ...who(tenant.key),
      });
      // Refused before its body was read: the bucket is not known.
      assert.deepEqual(pick(await entryFor(tenant.key, noScope.requestId), fields), {
        action: 'deleteFile',
        status: 403,
        bucket: null,
        ...who(reader),
      });
      assert.deepEqual(pick(await entryFor(tenant.key, readRefused.requestId), fields), {
        action: 'listAudit',
        status: 403,
        bucket: null,
        ...who(reader),
      });
    });

    it('records a refused request whatever its body held: a NUL is kept as U+FFFD', async () => {
      const tenant = await tenantWith();
      const refused = await send('/files/delete', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'a\u0000b', key: `${randomUUID()}.txt` },
      });
      assert.equal(refused.status, 400);
      const entry = await entryFor(tenant.key, refused.requestId);
      assert.deepEqual([entry.status, entry.bucket], [400, 'a\uFFFDb']);
      const after = await send('/files/delete-bucket', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'gone' },
      });
      assert.equal((await entryFor(tenant.key, after.requestId)).status, 404, 'entries after it are written');
    });

    it('records an upload whose client went away as 499, with where it came from', async () => {
      const tenant = await tenantWith();
      const requestId = randomUUID();
      const upload = request(`${stack.url}/upload/docs/big.bin`, {
        method: 'PUT',
        headers: {
          'x-api-key': tenant.key,
          'x-request-id': requestId,
          'user-agent': AGENT,
          'content-length': String(64 * 1024 * 1024), // a promise the client will not keep
        },
      });
      upload.on('error', () => {}); // the socket is destroyed on purpose
      for (let i = 0; i < 8; i++) upload.write(randomBytes(256 * 1024));
      await uploadReserving(stack.db.pool, tenant.id);
      upload.destroy();
      const entry = await entryFor(tenant.key, requestId);
      assert.deepEqual([entry.action, entry.status, entry.userAgent], ['putFile', 499, AGENT]);
      assert.match(entry.clientAddress ?? '', /127\.0\.0\.1/);
    });

    it('drops only the entry the database refuses, and writes the rest of its batch', async () => {
      const tenant = await tenantWith();
      const writer = new AuditWriter(stack.deps, { flushMs: 60_000 });
      const entry = (requestId: string, status: number) => ({
        tenantId: tenant.id,
        mode: 'live' as const,
        keyPrefix: null,
        action: 'deleteFile',
        status,
        requestId,
        clientAddress: null,
        userAgent: null,
        bucket: null,
        key: null,
        details: null,
      });
      const [before, refused, later] = [randomUUID(), randomUUID(), randomUUID()];
      writer.add(entry(before, 404));
      // A status no smallint holds: the database refuses that entry, whatever it is retried with.
      writer.add(entry(refused, 70_000));
      writer.add(entry(later, 403));
      await writer.close();
      const logged = (await audit(tenant.key)).entries.map((e) => e.requestId);
      assert.deepEqual(
        logged.filter((id) => [before, refused, later].some((ours) => ours === id)).sort(),
        [before, later].sort(),
      );
    });

    it("records a 401 with the presented key's prefix and no tenant, in no tenant's log", async () => {
      const unknown = generateApiKey('test').raw;
      rawKeys.add(unknown);
      const refused = await send('/upload/docs/a.txt', { method: 'PUT', key: unknown, body: 'x' });
      const keyless = await send('/files/docs');
      const garbage = await send('/files/docs', { key: 'stw_live_0123456789-not-a-real-key' });
      assert.deepEqual([refused.status, keyless.status, garbage.status], [401, 401, 401]);
      const row = await rowFor(refused.requestId);
      assert.deepEqual(
        [row.tenant_id, row.key_prefix, row.mode, row.action, row.status, row.bucket, row.user_agent],
        [null, publicPrefix(unknown), 'test', 'putFile', 401, 'docs', AGENT],
      );
      const none = await rowFor(keyless.requestId);
      assert.deepEqual(
        [none.key_prefix, none.mode, none.action, none.status],
        [null, null, 'listFiles', 401],
      );
      const malformed = await rowFor(garbage.requestId);
      assert.deepEqual(
        [malformed.key_prefix, malformed.mode],
        [null, null],
        'no part of a malformed key is kept',
      );
    });

    it('shows a test key the test log and a live key the live log', async () => {
      const tenant = await tenantWith();
      const tester = await mint(tenant, ['read', 'write', 'admin'], { mode: 'test' });
      const live = await send('/upload/docs/live.txt', { method: 'PUT', key: tenant.key, body: 'l' });
      const test = await send('/upload/docs/test.txt', { method: 'PUT', key: tester, body: 't' });
      const liveLog = await audit(tenant.key);
      const testLog = await audit(tester);
      assert.deepEqual(
        liveLog.entries.map((e) => [e.requestId, e.mode]),
        [[live.requestId, 'live']],
      );
      assert.deepEqual(
        testLog.entries.map((e) => [e.requestId, e.mode]),
        [[test.requestId, 'test']],
      );
    });

    it('pages newest first, filtered by action and time', async () => {
      const tenant = await tenantWith();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await send(`/upload/docs/${i}.txt`, { method: 'PUT', key: tenant.key, body: String(i) });
        ids.push(res.requestId);
      }
      const deleted = await send('/files/delete-bucket', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'docs' },
      });
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof audit>> = await audit(
          tenant.key,
          `?action=putFile&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.ok(page.entries.length <= 2);
        assert.equal(page.hasMore, page.nextCursor !== null);
        seen.push(...page.entries.map((e) => e.requestId));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ids.toReversed(), 'every upload once, newest first');

      const all = await audit(tenant.key);
      assert.equal(all.entries[0]!.requestId, deleted.requestId);
      const since = new Date(Date.parse(all.entries[0]!.at) + 1).toISOString();
      assert.deepEqual((await audit(tenant.key, `?since=${since}`)).entries, []);
      const bad = await call(stack.url, '/audit?cursor=nonsense', { key: tenant.key });
      assert.equal(bad.status, 400);
    });

    it('removes entries older than AUDIT_RETENTION_DAYS and keeps the others', async () => {
      const tenant = await tenantWith();
      const entry = (requestId: string, ageDays: number) => ({
        at: new Date(Date.now() - ageDays * DAY_MS),
        tenantId: tenant.id,
        mode: 'live' as const,
        keyPrefix: publicPrefix(tenant.key),
        action: 'uploadFile',
        bucket: 'docs',
        key: null,
        status: 201,
        requestId,
        clientAddress: null,
        userAgent: null,
        details: null,
      });
      const old = `old-${randomUUID()}`;
      const recent = `recent-${randomUUID()}`;
      await insertAuditEntries(stack.db.pool, [entry(old, 91), entry(recent, 89)]);
      assert.equal(stack.deps.config.auditRetentionDays, 90);
      const swept = await sweepOnce(stack.deps);
      assert.ok(swept.auditEntries >= 1);
      const left = (await audit(tenant.key)).entries.map((e) => e.requestId);
      assert.deepEqual(left, [recent]);
    });

    if (backend === realBackend) {
      it('records a direct upload when it completes', async () => {
        const tenant = await tenantWith();
        const body = Buffer.from('%PDF-1.7\nhello');
        const created = await send('/uploads/videos', {
          method: 'POST',
          key: tenant.key,
          json: { filename: 'r.pdf', size: body.length },
        });
        assert.equal(created.status, 201);
        const signed = await send(`/uploads/${created.body.uploadId}/parts`, {
          method: 'POST',
          key: tenant.key,
          json: { partNumbers: [1] },
        });
        assert.equal((await fetch(signed.body.parts[0].url, { method: 'PUT', body })).status, 200);
        const done = await send(`/uploads/${created.body.uploadId}/complete`, {
          method: 'POST',
          key: tenant.key,
          json: {},
        });
        assert.equal(done.status, 201, JSON.stringify(done.body));
        const entry = await entryFor(tenant.key, done.requestId);
        assert.deepEqual(pick(entry, ['action', 'status', 'bucket', 'key', 'keyPrefix']), {
          action: 'completeDirectUpload',
          status: 201,
          bucket: 'videos',
          key: created.body.key,
          keyPrefix: publicPrefix(tenant.key),
        });
        assert.equal((await entryFor(tenant.key, created.requestId)).action, 'createDirectUpload');
      });
    }

    it('keeps nothing of a key but its prefix: no key, no hash, in any column of any row', async () => {
      assert.ok(rawKeys.size >= 5);
      const { rows } = await stack.db.pool.query<{ row: string }>('SELECT t::text AS row FROM audit_log t');
      assert.ok(rows.length > 20, 'the suite wrote entries');
      for (const raw of rawKeys) {
        const hash = hashApiKey(raw);
        const forms = [
          raw,
          raw.slice(13),
          hash.toString('hex'),
          hash.toString('base64'),
          hash.toString('base64url'),
        ];
        for (const { row } of rows) {
          for (const form of forms) assert.ok(!row.includes(form), `a key (${publicPrefix(raw)}…) in ${row}`);
        }
      }
    });
  });

  describe(`audit log under a burst of refusals on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create({ AUTH_FAILURE_LIMIT: '40' });
    });
    after(() => stack.close());

    it('answers every request as usual and logs every refusal, 401s and 429s, soon after', async () => {
      const tenant = await stack.createTenant();
      const burst = `burst-${randomUUID()}`;
      const refusals = Array.from({ length: 120 }, (_, i) =>
        call(stack.url, '/files/docs', {
          key: generateApiKey('live').raw,
          headers: { 'x-request-id': `${burst}-${i}` },
        }),
      );
      const served = Array.from({ length: 20 }, (_, i) =>
        call(stack.url, `/upload/docs/${i}.txt`, { method: 'PUT', key: tenant.key, body: 'x' }),
      );
      const refused = await Promise.all(refusals);
      const answered = await Promise.all(served);
      assert.ok(
        answered.every((res) => res.status === 201),
        'the burst fails no request',
      );
      const statuses = refused.map((res) => res.status);
      assert.ok(statuses.every((status) => status === 401 || status === 429));
      assert.ok(statuses.includes(429), 'past AUTH_FAILURE_LIMIT a bad key is refused with 429');
      const counted = await eventually(async () => {
        const { rows } = await stack.db.pool.query<{ status: number; n: string }>(
          `SELECT status, count(*) AS n FROM audit_log WHERE request_id LIKE $1 GROUP BY status ORDER BY status`,
          [`${burst}-%`],
        );
        const total = rows.reduce((sum, row) => sum + Number(row.n), 0);
        return total === refusals.length ? rows : undefined;
      }, 'every refusal logged');
      assert.deepEqual(
        counted.map((row) => [row.status, Number(row.n)]),
        [401, 429].map((status) => [status, statuses.filter((s) => s === status).length]),
      );
    });
  });
}
