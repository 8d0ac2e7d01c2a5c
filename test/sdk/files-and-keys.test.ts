import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Stowage, StowageError } from '@stowage/sdk';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { PNG_1X1 } from '../support/http.ts';
import { holdings, recordingFetch, rejectsWith } from './support.ts';

for (const backend of stackBackends) {
  describe(`@stowage/sdk: changes, filters, batch deletes, keys and the tenant, against ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    const client = (options: Partial<ConstructorParameters<typeof Stowage>[0]> = {}) =>
      new Stowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'docs', ...options });

    before(async () => {
      stack = await backend.create();
    });
    beforeEach(async () => {
      tenant = await stack.createTenant({ displayName: 'Acme Inc.' });
    });
    after(() => stack.close());

    it("changes a file's name, tags, metadata and visibility, and answers it as it is now", async () => {
      const sdk = client();
      const { file } = await sdk.uploadFile(Buffer.from('hello'), { filename: 'a.txt' });
      const changed = await sdk.updateFile(file.key, {
        original: 'b.txt',
        tags: ['red', 'blue', 'red'],
        metadata: { owner: 'ann' },
        allowPublicAccess: false,
      });
      assert.equal(changed.success, true);
      assert.deepEqual(
        [changed.file.original, changed.file.tags, changed.file.metadata, changed.file.allowPublicAccess],
        ['b.txt', ['blue', 'red'], { owner: 'ann' }, false],
      );
      assert.deepEqual((await sdk.getFile(file.key)).file.tags, ['blue', 'red'], 'stored');
      const cleared = await sdk.updateFile(file.key, { tags: [] }, 'docs');
      assert.deepEqual(
        [cleared.file.tags, cleared.file.original],
        [[], 'b.txt'],
        'only what is sent changes',
      );
      await rejectsWith(sdk.updateFile(file.key, {}), 'BAD_REQUEST', 400);
      await rejectsWith(sdk.updateFile(file.key, { tags: ['x'] }, 'other'), 'FILE_NOT_FOUND', 404);
    });

    it('uploads a file that expires, and keeps a test key in its sandbox', async () => {
      const sdk = client();
      const started = Date.now();
      const { file } = await sdk.uploadFile(Buffer.from('brief'), { filename: 'a.txt', expiresIn: 3600 });
      assert.equal(file.mode, 'live');
      const expires = Date.parse(file.expiresAt!);
      assert.ok(expires >= started + 3600_000 && expires <= Date.now() + 3600_000, 'an hour after upload');
      assert.equal((await sdk.getFile(file.key)).file.expiresAt, file.expiresAt);
      await rejectsWith(sdk.uploadFile(Buffer.from('x'), { expiresIn: 0 }), 'BAD_REQUEST', 400);

      const sandbox = client({ apiKey: await tenant.mintKey(['read', 'write'], { mode: 'test' }) });
      const test = await sandbox.uploadFile(Buffer.from('try'), { filename: 'b.txt' });
      assert.equal(test.file.mode, 'test');
      assert.notEqual(test.file.expiresAt, null, 'test files are deleted after a while');
      assert.deepEqual(
        (await sandbox.listFiles('docs')).files.map((f) => f.key),
        [test.file.key],
      );
      assert.deepEqual(
        (await sdk.listFiles('docs')).files.map((f) => f.key),
        [file.key],
      );
      await rejectsWith(sdk.getFile(test.file.key), 'FILE_NOT_FOUND', 404);
      const usage = await sandbox.getUsage();
      assert.deepEqual([usage.data.mode, usage.data.fileCount], ['test', 1]);
    });

    it('lists with filters and order, and files() sends them with every cursor', async () => {
      const sdk = client();
      const keys: string[] = [];
      for (let i = 0; i < 5; i++) {
        const name = i === 4 ? 'photo.png' : `note-${i}.txt`;
        const body = i === 4 ? PNG_1X1 : Buffer.from(`note ${i}`);
        keys.push((await sdk.uploadFile(body, { filename: name })).file.key);
      }
      for (const key of [keys[0]!, keys[2]!, keys[3]!]) await sdk.updateFile(key, { tags: ['keep'] });

      const newest = await sdk.listFiles('docs', { order: 'desc', limit: 2 });
      assert.deepEqual(
        newest.files.map((f) => f.key),
        [keys[4], keys[3]],
      );
      assert.deepEqual(
        (await sdk.listFiles(undefined, { type: 'image' })).files.map((f) => f.key),
        [keys[4]],
      );
      assert.deepEqual(
        (await sdk.listFiles(undefined, { search: 'NOTE-1' })).files.map((f) => f.key),
        [keys[1]],
      );
      const later = await sdk.listFiles(undefined, {
        modifiedAfter: new Date(Date.now() + 60_000).toISOString(),
      });
      assert.deepEqual(later.files, []);

      const { fetch, sent } = recordingFetch();
      const walked = [];
      for await (const f of client({ fetch }).files(undefined, { tag: 'keep', order: 'desc', limit: 1 })) {
        walked.push(f.key);
      }
      assert.deepEqual(walked, [keys[3], keys[2], keys[0]]);
      assert.ok(sent.length >= 3);
      for (const { url } of sent) {
        assert.equal(url.searchParams.get('tag'), 'keep', url.search);
        assert.equal(url.searchParams.get('order'), 'desc', url.search);
      }
      assert.deepEqual(
        sent.map(({ url }) => url.searchParams.has('cursor')),
        [false, ...sent.slice(1).map(() => true)],
      );
    });

    it('deletes many files in requests of 1000, one result per key in order', async () => {
      const sdk = client();
      const a = (await sdk.uploadFile(Buffer.from('a'))).file.key;
      const b = (await sdk.uploadFile(Buffer.from('b'))).file.key;
      // Well-formed keys of files that were never there count as deleted, as a file already gone does.
      const absent = Array.from({ length: 1000 }, (_, i) => `${crypto.randomUUID()}.t${i}`);
      const { fetch, sent } = recordingFetch();
      const results = await client({ fetch }).deleteMultipleFiles([a, 'not-a-key', ...absent, b]);
      assert.deepEqual(
        sent.map((s) => `${s.method} ${s.url.pathname} ${s.status}`),
        ['POST /files/delete-many 200', 'POST /files/delete-many 200'],
      );
      assert.equal(results.length, 1003);
      assert.deepEqual(results[0], { key: a, success: true });
      assert.deepEqual(results.at(-1), { key: b, success: true });
      const bad = results[1]!;
      assert.ok(!bad.success && bad.key === 'not-a-key');
      assert.equal((bad.error as StowageError).code, 'BAD_REQUEST');
      assert.ok(results.slice(2, -1).every((r, i) => r.success && r.key === absent[i]));
      assert.equal((await holdings(stack, tenant)).files, 0);

      const reader = client({ apiKey: await tenant.mintKey(['read']) });
      const refused = await reader.deleteMultipleFiles(['x.txt', 'y.txt']);
      assert.deepEqual(
        refused.map((r) => [r.key, r.success, !r.success && (r.error as StowageError).code]),
        [
          ['x.txt', false, 'FORBIDDEN'],
          ['y.txt', false, 'FORBIDDEN'],
        ],
        'a request that fails fails each of its keys',
      );
    });

    it('lists, creates and revokes keys, and describes the tenant', async () => {
      const sdk = client();
      const created = await sdk.createKey({
        name: 'ci',
        scopes: ['write'],
        mode: 'test',
        allowedOrigins: ['https://ci.example'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      assert.match(created.apiKey, /^stw_test_/);
      assert.deepEqual(
        [created.key.name, created.key.scopes, created.key.source, created.key.allowedOrigins],
        ['ci', ['write'], 'api', ['https://ci.example']],
      );
      const minted = new Stowage({
        baseUrl: stack.url,
        apiKey: created.apiKey,
        origin: 'https://ci.example',
      });
      assert.equal((await minted.getUsage()).success, true, 'the new key works');

      assert.ok((await sdk.listKeys()).keys.some((k) => k.id === created.key.id && k.name === 'ci'));
      const revoked = await sdk.revokeKey(created.key.id);
      assert.equal(revoked.id, created.key.id);
      assert.ok(!(await sdk.listKeys()).keys.some((k) => k.id === created.key.id));
      assert.deepEqual(await sdk.revokeKey(created.key.id), revoked, 'revoking again answers the same');
      await rejectsWith(sdk.revokeKey(crypto.randomUUID()), 'FILE_NOT_FOUND', 404);
      await rejectsWith(sdk.createKey({ name: '', scopes: ['read'], mode: 'test' }), 'BAD_REQUEST', 400);

      const { tenant: described } = await sdk.getTenant();
      assert.equal(described.tenantId, tenant.id);
      assert.equal(described.displayName, 'Acme Inc.');
      assert.equal(described.storage, 'managed');
    });

    it('reads the audit log page by page, filtered, and audit() walks every page', async () => {
      const sdk = client();
      const keys: string[] = [];
      for (let i = 0; i < 3; i++) keys.push((await sdk.uploadFile(Buffer.from(`n${i}`))).file.key);
      await sdk.removeFile(keys[0]!);

      const first = await sdk.listAudit({ action: 'putFile', limit: 2 });
      assert.deepEqual(
        first.entries.map((e) => [e.action, e.key]),
        [
          ['putFile', keys[2]],
          ['putFile', keys[1]],
        ],
      );
      assert.equal(first.hasMore, true);
      const walked = [];
      for await (const entry of sdk.audit({ limit: 1 })) walked.push([entry.action, entry.key]);
      assert.deepEqual(walked, [
        ['deleteFile', keys[0]],
        ...keys.toReversed().map((key) => ['putFile', key]),
      ]);
      const since = new Date(Date.now() + 60_000).toISOString();
      assert.deepEqual((await sdk.listAudit({ since })).entries, []);
      const reader = new Stowage({ baseUrl: stack.url, apiKey: await tenant.mintKey(['read']) });
      await rejectsWith(reader.listAudit(), 'FORBIDDEN', 403);
    });
  });
}
