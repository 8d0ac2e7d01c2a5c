import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '@stowage/core';
import { answerClientErrors } from './client-errors.ts';

describe('answerClientErrors', () => {
  it('answers headers that never finish with 408 in the error shape', async () => {
    // Node checks header deadlines on an interval: both short, so the test does not wait a minute.
    const server = createServer({ connectionsCheckingInterval: 50 }, (_req, res) => res.end());
    server.headersTimeout = 200;
    server.requestTimeout = 0;
    answerClientErrors(server, createLogger({ name: 'client-errors-test', level: 'silent' }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // and nothing more
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      await once(socket, 'close');
      const [head, body] = received.split('\r\n\r\n');
      assert.match(head!, /^HTTP\/1\.1 408 Request Timeout\r\n/);
      const parsed = JSON.parse(body!) as Record<string, unknown>;
      assert.equal(parsed.code, 'REQUEST_TIMEOUT');
      assert.match(head!, new RegExp(`\r\nx-request-id: ${String(parsed.requestId)}\r\n`));
    } finally {
      server.close();
    }
  });
});
