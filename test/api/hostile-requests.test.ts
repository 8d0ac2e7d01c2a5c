import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { startApi, type RunningApi } from '@stowage/api';
import { createApiMetrics, getUsage } from '@stowage/core';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { uploadReserving } from '../support/tenant.ts';

const MiB = 1024 * 1024;

interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The first complete HTTP/1.1 response in `bytes` and how many bytes it took, if it is all there. */
function parseResponse(bytes: Buffer): { response: RawResponse; length: number } | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) (.+)$/.exec(statusLine!);
  assert.ok(status, `a status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `a header line: ${line}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length']);
  assert.ok(Number.isSafeInteger(length), 'a Content-Length');
  const end = headEnd + 4 + length;
  if (bytes.length < end) return undefined;
  return {
    response: {
      status: Number(status[1]),
      reason: status[2]!,
      headers,
      body: bytes.subarray(headEnd + 4, end),
    },
    length: end,
  };
}

/** A connection that sends bytes exactly as given and reads responses off the wire. */
class RawConnection {
  private received = Buffer.alloc(0);
  private problem: Error | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('error', (err) => (this.problem = err));
    this.closed = once(socket, 'close').then(() => {
      this.ended = true;
    });
  }

  static async open(base: string): Promise<RawConnection> {
    const { hostname, port } = new URL(base);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response; fails if the connection ends or breaks before it is complete. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const parsed = parseResponse(this.received);
      if (parsed) {
        this.received = this.received.subarray(parsed.length);
        return parsed.response;
      }
      if (this.problem) throw new Error(`the connection failed: ${this.problem.message}`);
      if (this.ended) throw new Error(`closed after an incomplete response: ${this.received.toString()}`);
      await Promise.race([once(this.socket, 'data'), this.closed]);
    }
  }

  /** Whatever arrives until the server closes the connection. */
  async rest(): Promise<Buffer> {
    await this.closed;
    assert.equal(this.problem, undefined, 'closed without a reset');
    return this.received;
  }
}

/** A refusal in the documented error shape, with its request id in the header and the body. */
function assertRefusal(res: RawResponse, status: number, code: string) {
  assert.equal(res.status, status, res.body.toString());
  assert.ok(res.reason.length > 0);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(res.headers.connection, 'close');
  const body = JSON.parse(res.body.toString()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'requestId', 'success']);
  assert.equal(body.success, false);
  assert.equal(body.code, code);
  assert.ok(typeof body.message === 'string' && body.message.length > 0);
  assert.ok(typeof body.requestId === 'string' && body.requestId.length > 0);
  assert.equal(res.headers['x-request-id'], body.requestId);
}

/** Sends `bytes` on a connection of its own; the server answers once and closes the connection. */
async function refused(base: string, bytes: string): Promise<RawResponse> {
  const connection = await RawConnection.open(base);
  connection.send(bytes);
  const res = await connection.response();
  assert.equal((await connection.rest()).length, 0, 'nothing after the refusal');
  return res;
}

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

    it('answers what the HTTP parser refuses in the error shape, with a request id', async () => {
      const hugeUrl = `GET /files/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`;
      assertRefusal(await refused(stack.url, hugeUrl), 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
      const manyHeaders = Array.from({ length: 70 }, (_, i) => `x-filler-${i}: ${'y'.repeat(1000)}\r\n`);
      const hugeHeaders = `GET /healthz HTTP/1.1\r\nHost: x\r\n${manyHeaders.join('')}\r\n`;
      assertRefusal(await refused(stack.url, hugeHeaders), 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
      for (const malformed of [
        'POST /files/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n',
        'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        'GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n',
        'NOT HTTP AT ALL\r\n\r\n',
      ]) {
        assertRefusal(await refused(stack.url, malformed), 400, 'BAD_REQUEST');
      }
    });

    it('answers broken framing in the middle of a request with that request id', async () => {
      const connection = await RawConnection.open(stack.url);
      connection.send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal((await connection.response()).status, 200, 'a request before it on the connection');
      connection.send(
        'POST /files/delete HTTP/1.1\r\nHost: x\r\nx-request-id: broken-chunks-1\r\n' +
          `x-api-key: ${tenant.key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
          'this is not a chunk size\r\n\r\n',
      );
      const res = await connection.response();
      assertRefusal(res, 400, 'BAD_REQUEST');
      assert.equal(res.headers['x-request-id'], 'broken-chunks-1');
      await connection.rest();
      assert.equal((await call(stack.url, '/healthz')).status, 200, 'the server carries on');
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
        await uploadReserving(stack.db.pool, tenant.id);
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
        const told = await eventually(async () => {
          const disconnects = lines.filter((l) => /client disconnected/i.test(String(l.msg)));
          return disconnects.length === 2 ? disconnects : undefined;
        }, 'both disconnects to be logged');
        assert.deepEqual(
          told.map((l) => [l.path, l.level]),
          [
            ['/upload/gone/big.bin', 30],
            ['/upload/gone', 30],
          ],
        );
        const serious = lines.filter((l) => Number(l.level) >= 50);
        assert.deepEqual(serious, [], 'nothing logged as an error');
        for (const line of lines) assert.equal(JSON.stringify(line).includes('"stack"'), false);
      });
    });
  });
}
