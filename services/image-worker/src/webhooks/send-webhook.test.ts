import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { forbiddenAddress } from './network-guard.ts';
import { sendWebhook } from './send-webhook.ts';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('forbiddenAddress', () => {
  it('refuses loopback, private, CGNAT, link-local, unique-local and mapped forms; allows public ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '198.18.0.1',
      '224.0.0.251',
      '255.255.255.255',
      'ff02::1',
      '64:ff9b::7f00:1',
    ])
      assert.ok(forbiddenAddress(address), address);
    for (const address of ['93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '8.8.8.8'])
      assert.equal(forbiddenAddress(address), undefined, address);
  });
});

describe('sendWebhook', () => {
  const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let status = 204;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(status, status === 302 ? { location: 'http://169.254.169.254/' } : {}).end();
    });
  });
  let url: string;
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => server.close());
  const message = () => ({ id: 'msg_1', url, body: '{"type":"file.uploaded"}', secret });
  const open = { timeoutMs: 2000, allowPrivateNetworks: true };

  it('posts a body signed as Standard Webhooks says', async () => {
    assert.deepEqual(await sendWebhook(message(), open), { statusCode: 204, error: undefined });
    const got = seen.at(-1)!;
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, String(got.headers[h])]),
    );
    assert.deepEqual(new Webhook(secret).verify(got.body, headers), { type: 'file.uploaded' });
  });

  it('does not follow a redirect: it is a failure', async () => {
    status = 302;
    const before = seen.length;
    const result = await sendWebhook(message(), open);
    status = 204;
    assert.equal(result.statusCode, 302);
    assert.match(result.error!, /redirect, not followed/);
    assert.equal(seen.length, before + 1);
  });

  it('refuses loopback without the override, by address and by name, before sending anything', async () => {
    const before = seen.length;
    const closed = { ...open, allowPrivateNetworks: false };
    const byAddress = await sendWebhook(message(), closed);
    assert.match(byAddress.error!, /^refused: 127\.0\.0\.1 is a loopback address/);
    const byName = await sendWebhook({ ...message(), url: url.replace('127.0.0.1', 'localhost') }, closed);
    assert.match(byName.error!, /^refused: localhost resolves to (127\.0\.0\.1|::1) is a loopback address/);
    const mapped = await sendWebhook({ ...message(), url: 'http://[::ffff:169.254.169.254]/' }, closed);
    assert.match(mapped.error!, /^refused: .* is a link-local \(cloud metadata\) address/);
    assert.equal(seen.length, before);
  });
});
