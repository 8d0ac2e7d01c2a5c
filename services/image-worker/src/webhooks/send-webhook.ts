import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { ForbiddenDestinationError, forbiddenAddress, guardedLookup } from './network-guard.ts';

export interface WebhookMessage {
  /** The `webhook-id`: the same for every attempt at one delivery. */
  id: string;
  url: string;
  body: string;
  /** `whsec_…` */
  secret: string;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

/** What came of one attempt: the receiver's status, and why it failed unless it answered 2xx. */
export interface SendResult {
  statusCode: number | undefined;
  error: string | undefined;
}

/**
 * POSTs one message as the Standard Webhooks specification says: `webhook-id`, `webhook-timestamp` (now)
 * and `webhook-signature` (HMAC-SHA256 of "id.timestamp.body" with the secret, by the `standardwebhooks`
 * package). 2xx is delivered; anything else, redirects included (they are not followed: a receiver
 * could otherwise bounce the request to an address the guard refuses), is a failure. The whole attempt,
 * connecting included, has `timeoutMs`. Never throws.
 */
export async function sendWebhook(message: WebhookMessage, options: SendOptions): Promise<SendResult> {
  try {
    const statusCode = await post(message, options);
    if (statusCode >= 200 && statusCode < 300) return { statusCode, error: undefined };
    const why = statusCode >= 300 && statusCode < 400 ? 'a redirect, not followed' : 'not 2xx';
    return { statusCode, error: `answered ${statusCode} (${why})` };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const refused =
      error instanceof ForbiddenDestinationError || error.cause instanceof ForbiddenDestinationError;
    const reason =
      error.name === 'AbortError' || error.name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs} ms`
        : error.message;
    return {
      statusCode: undefined,
      error: refused ? `refused: ${reason} (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)` : reason,
    };
  }
}

function post(message: WebhookMessage, options: SendOptions): Promise<number> {
  const url = new URL(message.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!options.allowPrivateNetworks) {
    const refusal = forbiddenAddress(host);
    if (refusal) return Promise.reject(new ForbiddenDestinationError(refusal));
  }
  const timestamp = new Date();
  const signature = new Webhook(message.secret).sign(message.id, timestamp, message.body);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: 'POST',
        agent: false,
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(!options.allowPrivateNetworks && { lookup: guardedLookup }),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Stowage-Webhooks/1',
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
      },
      (response) => {
        // Only the status matters; the body is read and dropped so the connection closes cleanly.
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
    request.end(message.body);
  });
}
