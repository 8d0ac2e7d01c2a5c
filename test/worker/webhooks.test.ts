import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setWebhookSecret } from '@stowage/core';
import { newWebhookSecret } from '../../operator/src/provisioners/webhook-secret.ts';
import { realBackend, type ApiStack } from '../support/api-stack.ts';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { requireEnv, uniqueName } from '../support/env.ts';
import { upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const EVENTS = 60;

describe('webhook delivery by worker processes', () => {
  let stack: ApiStack;
  let hooks: WebhookReceiver;
  const workers: CliServer[] = [];

  const startWorker = async () => {
    const worker = await startCliServer('worker', {
      DATABASE_URL: stack.db.url,
      REDIS_URL: requireEnv('REDIS_URL'),
      QUEUE_PREFIX: uniqueName('q'),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_POLL_MS: '100',
      WEBHOOK_RETRY_BASE_MS: '100',
    });
    workers.push(worker);
    return worker;
  };

  before(async () => {
    stack = await realBackend.create();
    // Slow enough that a batch is still in flight when its worker is killed.
    hooks = await startWebhookReceiver({ delayMs: 400 });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await hooks.close();
    await stack.close();
  });

  it('delivers every event of a burst despite a SIGKILLed worker and no worker at all meanwhile', async () => {
    const tenant = await stack.createTenant({
      webhooks: [{ name: 'app', url: hooks.url, events: ['file.uploaded'] }],
    });
    const secret = newWebhookSecret();
    await setWebhookSecret(stack.db.pool, tenant.id, secret);
    // No worker runs while the events happen: the outbox keeps them.
    const uploads = await Promise.all(
      Array.from({ length: EVENTS }, (_, i) => upload(stack.url, 'burst', `file ${i}`, { key: tenant.key })),
    );
    assert.ok(uploads.every((u) => u.status === 201));

    const victim = await startWorker();
    await eventually(
      async () => (hooks.received.length > 0 ? true : undefined),
      'the first deliveries to arrive',
    );
    victim.child.kill('SIGKILL');
    const seenAtKill = new Set(hooks.received.map((m) => m.id)).size;
    assert.ok(seenAtKill < EVENTS, 'the burst was cut short');

    const metrics = await startWorker().then((w) => w.metrics);
    await eventually(
      async () => {
        const { rows } = await stack.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 AND status = 'delivered'",
          [tenant.id],
        );
        return rows[0]!.n === EVENTS ? true : undefined;
      },
      'every delivery to be delivered',
      60_000,
    );
    const keys = new Set(uploads.map((u) => u.body.file.key as string));
    const delivered = new Set(hooks.received.map((m) => m.payload.data.key as string));
    assert.deepEqual([...delivered].sort(), [...keys].sort(), 'every event reached the receiver');
    assert.equal(new Set(hooks.received.map((m) => m.id)).size, EVENTS, 'duplicates only as attempts again');
    for (const message of hooks.received) assert.ok(hooks.verifies(message, secret));
    const text = await metrics();
    assert.match(text, /stowage_webhook_deliveries_total\{result="delivered"\} [1-9]/);
    assert.match(text, /stowage_webhook_delivery_duration_seconds_count\{result="delivered"\} [1-9]/);
    assert.match(text, /stowage_webhook_backlog 0/);
  });
});
