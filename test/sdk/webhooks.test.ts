import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Stowage } from '@stowage/sdk';
import { createWebhookMetrics, loadConfig, setWebhookSecret } from '@stowage/core';
import { startWebhookDelivery } from '@stowage/image-worker';
import { freePort } from '../../scripts/test-env/processes.ts';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';
import { eventually } from '../support/poll.ts';
import { newStwUser, stw, type StwUser } from '../support/stw.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

for (const backend of stackBackends) {
  describe(`webhook deliveries through the SDK and stw against ${backend.name}`, () => {
    let stack: ApiStack;
    let hooks: WebhookReceiver;
    let user: StwUser;
    let stopDelivery: () => Promise<void>;
    before(async () => {
      const port = await freePort();
      stack = await backend.create({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
      hooks = await startWebhookReceiver();
      stopDelivery = startWebhookDelivery(
        { pool: stack.db.pool, logger: stack.deps.logger, metrics: createWebhookMetrics(new Registry()) },
        loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_POLL_MS: '50' }).webhooks,
      );
      user = await newStwUser();
    });
    after(async () => {
      await stopDelivery();
      await user.remove();
      await hooks.close();
      await stack.close();
    });

    it('lists deliveries and sends one again, in the SDK and in stw', async () => {
      const tenant = await stack.createTenant({ webhooks: [{ name: 'app', url: hooks.url }] });
      await setWebhookSecret(stack.db.pool, tenant.id, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
      const sdk = new Stowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'docs' });
      await sdk.uploadFile(Buffer.from('one'), { filename: 'one.txt' });
      await sdk.uploadFile(Buffer.from('two'), { filename: 'two.txt' });
      const delivered = await eventually(async () => {
        const page = await sdk.listWebhookDeliveries({ status: 'delivered' });
        return page.deliveries.length === 2 ? page : undefined;
      }, 'two deliveries');
      const first = await sdk.listWebhookDeliveries({ limit: 1 });
      assert.equal(first.deliveries.length, 1);
      assert.equal(first.hasMore, true);
      const second = await sdk.listWebhookDeliveries({ limit: 1, cursor: first.nextCursor! });
      assert.deepEqual(
        [first.deliveries[0]!.id, second.deliveries[0]!.id],
        delivered.deliveries.map((d) => d.id),
      );
      assert.equal(second.hasMore, false);

      const target = delivered.deliveries[0]!;
      const retried = await sdk.retryWebhookDelivery(target.id);
      assert.equal(retried.delivery.status, 'pending');
      await eventually(async () => {
        const page = await sdk.listWebhookDeliveries();
        const again = page.deliveries.find((d) => d.id === target.id)!;
        return again.status === 'delivered' && again.attempts.length === 2 ? true : undefined;
      }, 'the retry');

      assert.equal((await stw(user, ['login', '--url', stack.url, '--key', tenant.key])).code, 0);
      const listed = await stw(user, ['webhooks', 'deliveries', '--status', 'delivered']);
      assert.equal(listed.code, 0, listed.stderr);
      const lines = listed.stdout.trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(
        lines[0]!,
        new RegExp(`^${target.id}  delivered  file.uploaded    app  2 attempts:  answered 204$`),
      );
      const json = await stw(user, ['webhooks', 'deliveries', '--limit', '1', '--json']);
      assert.equal((JSON.parse(json.stdout) as { deliveries: unknown[] }).deliveries.length, 1);
      const again = await stw(user, ['webhooks', 'retry', target.id]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, `queued ${target.id} (file.uploaded to app)\n`);
      const unknown = await stw(user, ['webhooks', 'retry', '00000000-0000-4000-8000-000000000000']);
      assert.equal(unknown.code, 1);
      assert.equal((await stw(user, ['webhooks', 'deliveries', '--status', 'lost'])).code, 2);
    });
  });
}
