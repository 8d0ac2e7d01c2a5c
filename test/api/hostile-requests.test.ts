import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { startApi, type RunningApi } from '@stowage/api';
import { createApiMetrics, getUsage } from '@stowage/core';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call } from '../support/http.ts';
import { eventually } from '../support/poll.ts';

const MiB = 1024 * 1024;

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

    describe('a client that disconnects during an upload', () => {
      const lines: Record<string, unknown>[] = [];
      let api: RunningApi;
      before(async () => {
        // A second API on the same database and store, whose log lines the test reads.
        const destination = new Writable({
          write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
            done();
          },
        });
        api = await startApi({
          ...stack.deps,
          logger: pino({ level: 'info' }, destination),
          metrics: createApiMetrics(),
        });
      });
      after(() => api.close());

      /** Sends half of a large upload, waits until the server is writing it, then goes away. */
      async function abandon(path: string, method: string, headers: Record<string, string>, preamble = '') {
        const req = request(new URL(path, api.url), {
          method,
          headers: { 'x-api-key': tenant.key, 'content-length': String(64 * MiB), ...headers },
        });
        req.on('error', () => {}); // destroyed on purpose
        req.write(preamble);
        for (let i = 0; i < 20; i++) req.write(randomBytes(256 * 1024));
        await eventually(async () => {
          const usage = await getUsage(stack.db.pool, tenant.id);
          return usage && usage.reservedBytes > 0 ? true : undefined;
        }, 'the upload to reserve quota');
        req.destroy();
        await eventually(async () => {
          const usage = await getUsage(stack.db.pool, tenant.id);
          return usage?.reservedBytes === 0 ? true : undefined;
        }, 'the abandoned upload to be cleaned up');
      }

      it('logs it as the client going away: no error, no stack', async () => {
        await abandon('/upload/gone/big.bin', 'PUT', {});
        const boundary = 'gone-boundary';
        await abandon(
          '/upload/gone',
          'POST',
          { 'content-type': `multipart/form-data; boundary=${boundary}` },
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`,
        );
        await eventually(async () => {
          const requests = lines.filter((l) => l.msg === 'request' && l.aborted === true);
          return requests.length === 2 ? requests : undefined;
        }, 'both requests to be logged');
        await eventually(async () => {
          const told = lines.filter((l) => /client disconnected/i.test(String(l.msg)));
          return told.length >= 1 ? told : undefined;
        }, 'the disconnect to be logged');
        const serious = lines.filter((l) => Number(l.level) >= 50);
        assert.deepEqual(serious, [], 'nothing logged as an error');
        for (const line of lines) assert.equal(JSON.stringify(line).includes('"stack"'), false);
      });
    });
  });
}
