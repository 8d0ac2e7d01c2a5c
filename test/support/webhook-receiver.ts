import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  body: string;
  headers: IncomingHttpHeaders;
  payload: { type: string; timestamp: string; data: Record<string, any> };
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Whether `message` carries a valid Standard Webhooks signature by `secret`. */
  verifies(message: ReceivedWebhook, secret: string): boolean;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1: records every request and answers what `answer` says for the nth
 * request (from 1), 204 by default, after `delayMs` if given.
 */
export async function startWebhookReceiver(
  options: { answer?: (n: number) => number; delayMs?: number } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    void buffer(req).then(async (raw) => {
      const status = options.answer?.(received.length + 1) ?? 204;
      const body = raw.toString('utf8');
      const payload = JSON.parse(body) as ReceivedWebhook['payload'];
      received.push({
        id: String(req.headers['webhook-id']),
        type: payload.type,
        body,
        headers: req.headers,
        payload,
        status,
      });
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    verifies(message, secret) {
      try {
        new Webhook(secret).verify(message.body, {
          'webhook-id': String(message.headers['webhook-id']),
          'webhook-timestamp': String(message.headers['webhook-timestamp']),
          'webhook-signature': String(message.headers['webhook-signature']),
        });
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
