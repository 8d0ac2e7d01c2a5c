import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call } from '../support/http.ts';

/** Every route that takes a JSON body, with a body it accepts in shape. */
const JSON_ROUTES = [
  ['/files/delete', { bucket: 'docs', key: '0f070692-8186-4b8d-86b9-e55d3e99f0b8.txt' }],
  ['/files/delete-bucket', { bucket: 'docs' }],
  ['/files/signed-url', { bucket: 'docs', key: '0f070692-8186-4b8d-86b9-e55d3e99f0b8.txt' }],
  ['/uploads/docs', { filename: 'a.bin', size: 10 }],
  ['/uploads/0f070692-8186-4b8d-86b9-e55d3e99f0b8/parts', { partNumbers: [1] }],
  ['/uploads/0f070692-8186-4b8d-86b9-e55d3e99f0b8/complete', { parts: [] }],
] as const;

for (const backend of stackBackends) {
  describe(`hostile requests on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant();
    });
    after(() => stack.close());

    const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
      call(stack.url, path, {
        method: 'POST',
        key: tenant.key,
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    it('answers a compressed body that does not decompress with 400 on every JSON route', async () => {
      for (const [path, json] of JSON_ROUTES) {
        const text = JSON.stringify(json);
        for (const [encoding, body] of [
          ['gzip', text],
          ['gzip', gzipSync(text).subarray(0, 12)],
          ['deflate', text],
          ['br', `${text} is not brotli`],
        ] as const) {
          const res = await post(path, body, { 'content-encoding': encoding });
          assert.equal(res.status, 400, `${path} ${encoding}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.code, 'BAD_REQUEST');
          assert.equal(res.body.success, false);
          assert.equal(res.body.requestId, res.headers.get('x-request-id'));
        }
      }
    });

    it('reads JSON bodies that do decompress', async () => {
      const text = JSON.stringify({ bucket: 'docs', key: '0f070692-8186-4b8d-86b9-e55d3e99f0b8.txt' });
      for (const [encoding, body] of [
        ['gzip', gzipSync(text)],
        ['deflate', deflateSync(text)],
        ['br', brotliCompressSync(text)],
      ] as const) {
        const res = await post('/files/delete', body, { 'content-encoding': encoding });
        assert.equal(res.status, 200, `${encoding}: ${JSON.stringify(res.body)}`);
      }
    });

    it('calls an oversized JSON body a request body, not a file', async () => {
      const res = await post(
        '/files/delete',
        JSON.stringify({ bucket: 'docs', key: 'x'.repeat(20_000) }),
        {},
      );
      assert.equal(res.status, 413);
      assert.equal(res.body.code, 'PAYLOAD_TOO_LARGE');
      assert.match(res.body.message, /request body/i);
      assert.doesNotMatch(res.body.message, /file/i);
    });
  });
}
