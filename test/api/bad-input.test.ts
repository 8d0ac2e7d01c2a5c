import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getUsage } from '@stowage/core';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';

const BOUNDARY = 'XyZ123';
const multipart = (body: string, contentType = `multipart/form-data; boundary=${BOUNDARY}`) => ({
  method: 'POST',
  headers: { 'content-type': contentType },
  body,
});
const part = (name: string, content: string, filename?: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${content}\r\n`;

for (const backend of stackBackends) {
  describe(`bad input on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant({
        quota: { storage: 3000, maxFileSize: 2000 },
        buckets: [{ name: 'images-only', allowedTypes: ['image/*'] }],
      });
    });
    after(() => stack.close());

    /** Every rejected request must leave no usage, reservation, row or object behind. */
    async function assertNothingLeft() {
      assert.deepEqual(await getUsage(stack.db.pool, tenant.id), {
        quotaBytes: 3000,
        usedBytes: 0,
        reservedBytes: 0,
        fileCount: 0,
      });
      const rows = await stack.db.pool.query('SELECT count(*)::int AS n FROM files WHERE tenant_id = $1', [
        tenant.id,
      ]);
      assert.equal(rows.rows[0].n, 0);
      const reservations = await stack.db.pool.query(
        'SELECT count(*)::int AS n FROM quota_reservations WHERE tenant_id = $1',
        [tenant.id],
      );
      assert.equal(reservations.rows[0].n, 0);
      assert.deepEqual(await stack.storedObjects(tenant.storageBucket), []);
    }

    function assertError(res: { status: number; body: any; headers: Headers }, status: number, code: string) {
      assert.equal(res.status, status, JSON.stringify(res.body));
      const { fields, suggestion, ...rest } = res.body;
      assert.deepEqual(Object.keys(rest).sort(), ['code', 'message', 'requestId', 'success']);
      // Invalid input says where: one entry per problem.
      if (fields !== undefined) {
        assert.equal(code, 'BAD_REQUEST');
        assert.ok(
          fields.length > 0 && fields.every((f: any) => /^(params|query|body)\b/.test(f.path) && f.message),
        );
      }
      if (suggestion !== undefined) assert.equal(typeof suggestion, 'string');
      assert.equal(res.body.success, false);
      assert.equal(res.body.code, code);
      assert.ok(res.body.message.length > 0);
      assert.equal(res.body.requestId, res.headers.get('x-request-id'));
    }

    const send = (path: string, init: RequestInit & { json?: unknown } = {}) =>
      call(stack.url, path, { ...init, key: tenant.key });

    it('rejects malformed multipart bodies', async () => {
      const cases = [
        multipart(`${part('file', 'abc', 'a.txt')}`), // no closing boundary
        multipart('this is not multipart at all'),
        multipart(`${part('file', 'abc', 'a.txt')}--${BOUNDARY}--\r\n`, 'multipart/form-data'), // no boundary
        multipart(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--${BOUNDARY}--\r\n`), // no name
      ];
      for (const init of cases) assertError(await send('/upload/docs', init), 400, 'BAD_REQUEST');
      await assertNothingLeft();
    });

    it('rejects a body that is not multipart', async () => {
      assertError(
        await send('/upload/docs', { method: 'POST', json: { file: 'x' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      await assertNothingLeft();
    });

    it('rejects a missing, misnamed or second file and bad fields', async () => {
      const end = `--${BOUNDARY}--\r\n`;
      const cases = [
        multipart(`${part('allowPublicAccess', 'true')}${end}`),
        multipart(`${part('upload', 'abc', 'a.txt')}${end}`),
        multipart(`${part('file', 'one', 'a.txt')}${part('file', 'two', 'b.txt')}${end}`),
        multipart(`${part('file', 'abc', 'a.txt')}${part('allowPublicAccess', 'perhaps')}${end}`),
        multipart(`${part('file', 'abc', 'a.txt')}${part('unexpected', '1')}${end}`),
        multipart(`${part('allowPublicAccess', 'x'.repeat(500))}${part('file', 'abc', 'a.txt')}${end}`),
      ];
      for (const init of cases) assertError(await send('/upload/docs', init), 400, 'BAD_REQUEST');
      assertError(
        await upload(stack.url, 'docs', 'abc', { key: tenant.key, field: 'document' }),
        400,
        'BAD_REQUEST',
      );
      await assertNothingLeft();
    });

    it('says which upload field, query parameter or body member is wrong', async () => {
      const end = `--${BOUNDARY}--\r\n`;
      const form = (body: string) => send('/upload/docs', multipart(`${body}${end}`));
      const cases = [
        {
          res: await form(part('file', 'abc', 'a.txt') + part('waitForVariants', 'soon')),
          path: 'body.waitForVariants',
        },
        { res: await form(part('file', 'abc', 'a.txt') + part('colour', 'blue')), path: 'body.colour' },
        { res: await form(part('upload', 'abc', 'a.txt')), path: 'body.upload' },
        { res: await form(part('allowPublicAccess', 'true')), path: 'body.file' },
        {
          res: await send('/upload/docs/x.txt?allowPublicAccess=maybe', { method: 'PUT', body: 'abc' }),
          path: 'query.allowPublicAccess',
        },
        {
          res: await send('/uploads/docs', { method: 'POST', json: { filename: 'x.bin', size: '10' } }),
          path: 'body.size',
        },
      ];
      for (const { res, path } of cases) {
        assertError(res, 400, 'BAD_REQUEST');
        assert.deepEqual(
          res.body.fields.map((f: { path: string }) => f.path),
          [path],
        );
      }
      await assertNothingLeft();
    });

    it('rejects direct-upload ids that are not UUIDs, saying so', async () => {
      const id = '0F070692-8186-4B8D-86B9-E55D3E99F0B8'; // upper case: never an id the API hands out
      for (const bad of ['not-an-id', id, `${id.toLowerCase()}x`, '..%2F..%2Fetc']) {
        for (const [action, json] of [
          ['parts', { partNumbers: [1] }],
          ['complete', {}],
          ['abort', undefined],
        ] as const) {
          const res = await send(`/uploads/${bad}/${action}`, { method: 'POST', json });
          assertError(res, 400, 'BAD_REQUEST');
          assert.deepEqual(
            res.body.fields.map((f: { path: string }) => f.path),
            ['params.id'],
            `${bad} ${action}`,
          );
        }
      }
      await assertNothingLeft();
    });

    it('rejects an empty file', async () => {
      assertError(await upload(stack.url, 'docs', '', { key: tenant.key }), 400, 'BAD_REQUEST');
      await assertNothingLeft();
    });

    it('rejects bad bucket names: traversal, control characters, too long', async () => {
      for (const bucket of [
        '..%2F..%2Fetc',
        '..%5C..',
        'a%00b',
        'tab%09',
        'new%0Aline',
        'UPPER',
        'x'.repeat(64),
        '.hidden',
      ]) {
        assertError(await upload(stack.url, bucket, 'abc', { key: tenant.key }), 400, 'BAD_REQUEST');
        assertError(await send(`/files/${bucket}`), 400, 'BAD_REQUEST');
      }
      for (const bucket of ['../x', 'a\u0000', 'x'.repeat(64), 42, null]) {
        assertError(
          await send('/files/delete', { method: 'POST', json: { bucket, key: 'x.txt' } }),
          400,
          'BAD_REQUEST',
        );
        assertError(
          await send('/files/delete-bucket', { method: 'POST', json: { bucket } }),
          400,
          'BAD_REQUEST',
        );
      }
      await assertNothingLeft();
    });

    it('rejects bad file keys', async () => {
      const id = '0f070692-8186-4b8d-86b9-e55d3e99f0b8';
      for (const key of [
        '../../secret',
        `${id}.txt/../x`,
        `${id}\n.txt`,
        `${id}.${'x'.repeat(300)}`,
        'plain.txt',
        '',
      ]) {
        assertError(
          await send('/files/delete', { method: 'POST', json: { bucket: 'docs', key } }),
          400,
          'BAD_REQUEST',
        );
      }
      assertError(await send(`/files/docs/${encodeURIComponent('../x')}`), 400, 'BAD_REQUEST');
      assert.equal(
        (await call(stack.url, `/${tenant.id}/docs/${encodeURIComponent('../../etc/passwd')}`)).status,
        404,
      );
    });

    it('rejects forged cursors and undecodable paths with 400', async () => {
      const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const c of [
        cursor({ t: '99999999999999999999', id: '0f070692-8186-4b8d-86b9-e55d3e99f0b8' }),
        cursor({ t: '1', id: '------------------------------------' }),
        cursor([1, 2]),
        'not base64 at all!',
      ]) {
        assertError(await send(`/files/docs?cursor=${encodeURIComponent(c)}`), 400, 'BAD_REQUEST');
      }
      for (const path of ['/anytenant/b/%E0%A4%A', '/files/b/%ZZ']) {
        assertError(await call(stack.url, path), 400, 'BAD_REQUEST');
      }
      assertError(await send('/upload/b/%ZZ', { method: 'PUT', body: 'x' }), 400, 'BAD_REQUEST');
    });

    it('rejects broken and wrong-shaped JSON', async () => {
      for (const body of ['{broken', '[1,2]', '"text"', '', 'null']) {
        const res = await send('/files/delete', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        assertError(res, 400, 'BAD_REQUEST');
      }
      assertError(await send('/files/delete', { method: 'POST', json: {} }), 400, 'BAD_REQUEST');
      const huge = await send('/files/delete', {
        method: 'POST',
        json: { bucket: 'docs', key: 'x'.repeat(20_000) },
      });
      assertError(huge, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('answers unknown routes and methods with a 404 in the error shape', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['GET', '/a/b/c/d'],
        ['DELETE', '/files/docs'],
        ['POST', '/usage'],
        ['PATCH', '/upload/docs'],
      ] as const) {
        assertError(await send(path, { method }), 404, 'FILE_NOT_FOUND');
      }
    });

    it('rejects a file over maxFileSize with 413 and leaves nothing', async () => {
      assertError(
        await upload(stack.url, 'docs', Buffer.alloc(2500, 1), { key: tenant.key }),
        413,
        'PAYLOAD_TOO_LARGE',
      );
      await assertNothingLeft();
    });

    it('rejects bad raw PUT uploads the same way', async () => {
      const put = (path: string, body: Buffer | string) => send(path, { method: 'PUT', body });
      assertError(await put('/upload/docs/empty.txt', ''), 400, 'BAD_REQUEST');
      assertError(await put('/upload/docs/big.bin', Buffer.alloc(2500, 1)), 413, 'PAYLOAD_TOO_LARGE');
      assertError(await put('/upload/docs/x.txt?allowPublicAccess=maybe', 'abc'), 400, 'BAD_REQUEST');
      assertError(await put('/upload/..%2Fdocs/x.txt', 'abc'), 400, 'BAD_REQUEST');
      assertError(await put('/upload/images-only/x.txt', 'abc'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await assertNothingLeft();
    });

    it('rejects a file over the quota with 403 QUOTA_EXCEEDED and leaves nothing', async () => {
      assert.equal((await upload(stack.url, 'docs', Buffer.alloc(1800, 1), { key: tenant.key })).status, 201);
      const res = await upload(stack.url, 'docs', Buffer.alloc(1500, 2), { key: tenant.key });
      assertError(res, 403, 'QUOTA_EXCEEDED');
      const usage = await getUsage(stack.db.pool, tenant.id);
      assert.deepEqual([usage?.usedBytes, usage?.reservedBytes, usage?.fileCount], [1800, 0, 1]);
      const listed = await send('/files/docs');
      await send('/files/delete', {
        method: 'POST',
        json: { bucket: 'docs', key: listed.body.files[0].key },
      });
      await assertNothingLeft();
    });

    it('rejects types a bucket does not accept with 415', async () => {
      assertError(
        await upload(stack.url, 'images-only', 'just text', { key: tenant.key }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
      await assertNothingLeft();
    });
  });
}
