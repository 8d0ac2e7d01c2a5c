import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { sweepOnce } from '@stowage/api';
import { createWebhookMetrics, loadConfig, setWebhookSecret, WEBHOOK_EVENTS } from '@stowage/core';
import { startInProcessVariants, startWebhookDelivery } from '@stowage/image-worker';
import { newWebhookSecret } from '../../operator/src/provisioners/webhook-secret.ts';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

/** Delivery settings for tests: receivers on loopback, short waits. */
const settings = (overrides: Record<string, string> = {}) =>
  loadConfig({
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_BASE_MS: '200',
    WEBHOOK_POLL_MS: '50',
    WEBHOOK_TIMEOUT_MS: '2000',
    ...overrides,
  }).webhooks;

for (const backend of stackBackends) {
  describe(`webhooks on ${backend.name}`, () => {
    let stack: ApiStack;
    const receivers: WebhookReceiver[] = [];
    before(async () => {
      stack = await backend.create();
    });
    after(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await stack.close();
    });

    /** Runs delivery (as the worker and `make dev` do) with `overrides` until the test ends. */
    const delivering = (
      t: { after(fn: () => Promise<void>): void },
      overrides: Record<string, string> = {},
    ) => {
      const stop = startWebhookDelivery(
        { pool: stack.db.pool, logger: stack.deps.logger, metrics: createWebhookMetrics(new Registry()) },
        settings(overrides),
      );
      t.after(stop);
    };
    const receiver = async (options?: Parameters<typeof startWebhookReceiver>[0]) => {
      const r = await startWebhookReceiver(options);
      receivers.push(r);
      return r;
    };
    /** A tenant with one webhook to `url` and its signing secret, as the operator would leave it. */
    const tenantWithWebhook = async (url: string, spec: Record<string, unknown> = {}) => {
      const tenant = await stack.createTenant({ ...spec, webhooks: [{ name: 'app', url }] });
      const secret = newWebhookSecret();
      await setWebhookSecret(stack.db.pool, tenant.id, secret);
      return { tenant, secret };
    };
    const deliveries = async (tenant: TestTenant, query = '') => {
      const res = await call(stack.url, `/webhooks/deliveries${query}`, { key: tenant.key });
      assert.equal(res.status, 200);
      return res.body.deliveries as Record<string, any>[];
    };

    it('sends a signed event of every type, once per change', async (t) => {
      delivering(t);
      t.after(startInProcessVariants({ ...stack.deps, limits: stack.deps.config.variants }, 50));
      const hooks = await receiver();
      const { tenant, secret } = await tenantWithWebhook(hooks.url, { quota: { storage: 100_000 } });
      const key = tenant.key;

      const image = await upload(stack.url, 'pics', PNG_1X1, { key, filename: 'dot.png' });
      const broken = await upload(stack.url, 'pics', PNG_1X1.subarray(0, 40), { key, filename: 'bad.png' });
      const doc = await upload(stack.url, 'docs', 'x'.repeat(85_000), { key, filename: 'big.txt' });
      const brief = await upload(stack.url, 'docs', 'brief', { key, fields: { expiresIn: '1' } });
      await call(stack.url, '/files/delete', {
        method: 'POST',
        key,
        json: { bucket: 'docs', key: doc.body.file.key },
      });
      await sleep(1100);
      await sweepOnce(stack.deps);
      await call(stack.url, '/files/delete-bucket', { method: 'POST', key, json: { bucket: 'pics' } });
      // Once the variants settled (before the bucket went) and the sweeper ran, nothing more will come.
      const expected = {
        'file.uploaded': 4,
        'file.deleted': 1,
        'file.expired': 1,
        'bucket.deleted': 1,
        'variants.ready': 1,
        'variants.failed': 1,
        'quota.threshold': 1,
      };
      const byType = () => {
        const ids = new Map(hooks.received.map((m) => [m.id, m.type]));
        return Object.fromEntries(
          WEBHOOK_EVENTS.map((type) => [type, [...ids.values()].filter((v) => v === type).length]),
        );
      };
      await eventually(
        async () => (JSON.stringify(byType()) === JSON.stringify(expected) ? true : undefined),
        'every event',
      );
      // Duplicates may only be attempts at one delivery again (same webhook-id), and every one is signed.
      for (const message of hooks.received)
        assert.ok(hooks.verifies(message, secret), `${message.type} is signed`);
      const uploaded = hooks.received.find(
        (m) => m.type === 'file.uploaded' && m.payload.data.key === image.body.file.key,
      )!;
      assert.deepEqual(
        { ...uploaded.payload.data, expiresAt: undefined },
        {
          tenantId: tenant.id,
          bucket: 'pics',
          key: image.body.file.key,
          id: image.body.file.id,
          original: 'dot.png',
          size: PNG_1X1.length,
          mimetype: 'image/png',
          mode: 'live',
          allowPublicAccess: true,
          expiresAt: undefined,
        },
      );
      const failed = hooks.received.find((m) => m.type === 'variants.failed')!;
      assert.equal(failed.payload.data.key, broken.body.file.key);
      const expired = hooks.received.find((m) => m.type === 'file.expired')!;
      assert.equal(expired.payload.data.key, brief.body.file.key);
      const threshold = hooks.received.find((m) => m.type === 'quota.threshold')!;
      assert.equal(threshold.payload.data.threshold, 80);
      assert.equal(hooks.received.find((m) => m.type === 'bucket.deleted')!.payload.data.filesDeleted, 2);
      assert.ok(hooks.received.every((m) => Number.isFinite(Date.parse(m.payload.timestamp))));

      const listed = await deliveries(tenant, '?status=delivered');
      assert.equal(listed.length, 10);
      assert.ok(listed.every((d) => d.attempts.at(-1).statusCode === 204 && d.webhook === 'app'));
    });

    it('reports each quota threshold once, crossing upward', async (t) => {
      delivering(t);
      const hooks = await receiver();
      const { tenant } = await tenantWithWebhook(hooks.url, { quota: { storage: 1000 } });
      for (const size of [850, 100, 50]) await upload(stack.url, 'b', 'q'.repeat(size), { key: tenant.key });
      const thresholds = () =>
        hooks.received
          .filter((m) => m.type === 'quota.threshold')
          .map((m) => m.payload.data.threshold as number);
      await eventually(async () => (thresholds().length >= 3 ? true : undefined), 'three crossings');
      assert.deepEqual([...new Set(thresholds())].sort(), [100, 80, 90]);
    });

    it('reports a threshold once when the uploads that cross it settle at the same time', async () => {
      const hooks = await receiver();
      const { tenant } = await tenantWithWebhook(hooks.url, { quota: { storage: 1000 } });
      const puts = await Promise.all(
        ['a', 'b', 'c'].map((name) =>
          call(stack.url, `/upload/b/${name}.txt`, {
            method: 'PUT',
            key: tenant.key,
            body: Buffer.alloc(300),
          }),
        ),
      );
      assert.deepEqual(
        puts.map((res) => res.status),
        [201, 201, 201],
      );
      // The outbox holds every event the uploads committed; no delivery needs to run.
      const thresholds = (await deliveries(tenant))
        .filter((d) => d.type === 'quota.threshold')
        .map((d) => d.payload.data.threshold as number);
      assert.deepEqual(thresholds.sort(), [80, 90]);
    });

    it('sends each body as compact JSON in the documented order, with the times the API gives', async (t) => {
      delivering(t);
      const hooks = await receiver();
      const { tenant } = await tenantWithWebhook(hooks.url, { quota: { storage: 1000 } });
      const up = await upload(stack.url, 'b', 'q'.repeat(850), {
        key: tenant.key,
        filename: 'q.txt',
        fields: { expiresIn: '3600' },
      });
      assert.equal(up.status, 201);
      const file = up.body.file;
      assert.ok(file.expiresAt);
      const [uploaded, threshold] = await eventually(async () => {
        const of = (type: string) => hooks.received.find((m) => m.type === type);
        const both = [of('file.uploaded'), of('quota.threshold')];
        return both.every(Boolean) ? both.map((m) => m!) : undefined;
      }, 'both events');
      const data = {
        tenantId: tenant.id,
        bucket: 'b',
        key: file.key,
        id: file.id,
        original: 'q.txt',
        size: 850,
        mimetype: file.mimetype,
        mode: 'live',
        allowPublicAccess: true,
        expiresAt: file.expiresAt,
      };
      const { timestamp } = uploaded!.payload;
      assert.equal(uploaded!.body, JSON.stringify({ type: 'file.uploaded', timestamp, data }));
      assert.equal(
        threshold!.body,
        JSON.stringify({
          type: 'quota.threshold',
          timestamp: threshold!.payload.timestamp,
          data: {
            tenantId: tenant.id,
            threshold: 80,
            usedBytes: 850,
            quotaBytes: 1000,
            percentUsed: 85,
            mode: 'live',
          },
        }),
      );
    });

    it('retries with growing backoff until the receiver answers 2xx', async (t) => {
      delivering(t);
      const hooks = await receiver({ answer: (n) => (n <= 3 ? 500 : 200) });
      const { tenant } = await tenantWithWebhook(hooks.url);
      await upload(stack.url, 'b', 'retry me', { key: tenant.key });
      const [delivery] = await eventually(async () => {
        const listed = await deliveries(tenant);
        return listed[0]?.status === 'delivered' ? listed : undefined;
      }, 'the delivery');
      assert.deepEqual(
        delivery!.attempts.map((a: Record<string, any>) => [a.attempt, a.statusCode]),
        [
          [1, 500],
          [2, 500],
          [3, 500],
          [4, 200],
        ],
      );
      assert.match(delivery!.attempts[0].error, /answered 500/);
      assert.equal(delivery!.attempts[3].error, null);
      const starts = delivery!.attempts.map((a: Record<string, any>) => Date.parse(a.startedAt));
      const gaps = starts.slice(1).map((s: number, i: number) => s - starts[i]);
      assert.ok(gaps[0] >= 200 && gaps[1] > gaps[0] && gaps[2] > gaps[1], `gaps ${gaps.join(', ')}`);
      assert.equal(new Set(hooks.received.map((m) => m.id)).size, 1, 'every attempt has the same webhook-id');
    });

    it('gives up after the last attempt, and sends again on retry', async (t) => {
      delivering(t, { WEBHOOK_MAX_ATTEMPTS: '2' });
      let refusing = true;
      const hooks = await receiver({ answer: () => (refusing ? 503 : 200) });
      const { tenant } = await tenantWithWebhook(hooks.url);
      await upload(stack.url, 'b', 'give up', { key: tenant.key });
      const [failed] = await eventually(async () => {
        const listed = await deliveries(tenant, '?status=failed');
        return listed.length ? listed : undefined;
      }, 'the delivery to fail');
      assert.equal(failed!.attempts.length, 2);
      refusing = false;
      const retried = await call(stack.url, `/webhooks/deliveries/${failed!.id}/retry`, {
        method: 'POST',
        key: tenant.key,
      });
      assert.equal(retried.status, 202);
      assert.equal(retried.body.delivery.status, 'pending');
      await eventually(
        async () => ((await deliveries(tenant, '?status=delivered')).length ? true : undefined),
        'the retry',
      );
      assert.equal(hooks.received.at(-1)!.status, 200);
    });

    it('keeps finished deliveries WEBHOOK_DELIVERY_RETENTION_DAYS, then sweeps them with their attempts', async (t) => {
      delivering(t, { WEBHOOK_MAX_ATTEMPTS: '1' });
      // The 2nd request is refused: with one attempt allowed, that delivery fails.
      const hooks = await receiver({ answer: (n) => (n === 2 ? 503 : 200) });
      const { tenant } = await tenantWithWebhook(hooks.url);
      const finished = async (n: number) =>
        eventually(async () => {
          const listed = await deliveries(tenant);
          return listed.length === n && listed.every((d) => d.status !== 'pending') ? listed : undefined;
        }, `${n} finished deliveries`);
      await upload(stack.url, 'b', 'old, delivered', { key: tenant.key });
      const [oldDelivered] = await finished(1);
      await upload(stack.url, 'b', 'old, failed', { key: tenant.key });
      const [oldFailed] = await finished(2);
      await upload(stack.url, 'b', 'recent, delivered', { key: tenant.key });
      const [recent] = await finished(3);
      assert.deepEqual(
        [oldDelivered!.status, oldFailed!.status, recent!.status],
        ['delivered', 'failed', 'delivered'],
      );
      const sql = (text: string, params: unknown[]) => stack.db.pool.query(text, params);
      await sql(`UPDATE webhook_deliveries SET created_at = now() - interval '31 days' WHERE id = ANY($1)`, [
        [oldDelivered!.id, oldFailed!.id],
      ]);
      await sql(`UPDATE webhook_deliveries SET created_at = now() - interval '29 days' WHERE id = $1`, [
        recent!.id,
      ]);
      // An old delivery still being retried (a copy of the recent one) stays until it finishes.
      const { rows } = await sql(
        `INSERT INTO webhook_deliveries (id, tenant_id, mode, webhook, url, type, body, created_at, next_attempt_at)
         SELECT gen_random_uuid(), tenant_id, mode, webhook, url, type, body, now() - interval '31 days',
                now() + interval '1 hour'
         FROM webhook_deliveries WHERE id = $1 RETURNING id`,
        [recent!.id],
      );
      assert.equal(stack.deps.config.webhookDeliveryRetentionDays, 30);

      const swept = await sweepOnce(stack.deps);
      assert.ok(swept.webhookDeliveries >= 2);
      assert.deepEqual((await deliveries(tenant)).map((d) => d.id).sort(), [recent!.id, rows[0].id].sort());
      const attempts = await sql(
        'SELECT count(*)::int AS n FROM webhook_attempts WHERE delivery_id = ANY($1)',
        [[oldDelivered!.id, oldFailed!.id]],
      );
      assert.equal(attempts.rows[0].n, 0, 'their attempts went with them');
    });

    it('refuses loopback and metadata destinations without the override, and says why', async (t) => {
      delivering(t, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', WEBHOOK_MAX_ATTEMPTS: '1' });
      const hooks = await receiver();
      const port = new URL(hooks.url).port;
      for (const [url, why] of [
        [hooks.url, /127\.0\.0\.1 is a loopback address/],
        [`http://localhost:${port}/hooks`, /localhost resolves to .* loopback address/],
        [
          'http://169.254.169.254/latest/meta-data',
          /169\.254\.169\.254 is a link-local \(cloud metadata\) address/,
        ],
      ] as const) {
        const { tenant } = await tenantWithWebhook(url);
        await upload(stack.url, 'b', 'ssrf', { key: tenant.key });
        const [delivery] = await eventually(async () => {
          const listed = await deliveries(tenant, '?status=failed');
          return listed.length ? listed : undefined;
        }, `${url} to be refused`);
        assert.equal(delivery!.attempts[0].statusCode, null);
        assert.match(delivery!.attempts[0].error, why);
      }
      assert.equal(hooks.received.length, 0);
    });

    it('writes no outbox rows for a tenant without webhooks, and scopes deliveries to tenant and mode', async () => {
      const quiet = await stack.createTenant({ quota: { storage: 100 } });
      const up = await upload(stack.url, 'b', 'q'.repeat(90), { key: quiet.key });
      await call(stack.url, '/files/delete', {
        method: 'POST',
        key: quiet.key,
        json: { bucket: 'b', key: up.body.file.key },
      });
      await call(stack.url, '/files/delete-bucket', {
        method: 'POST',
        key: quiet.key,
        json: { bucket: 'b' },
      });
      const { rows } = await stack.db.pool.query(
        'SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1',
        [quiet.id],
      );
      assert.equal(rows[0].n, 0);

      const { tenant } = await tenantWithWebhook('https://hooks.example.com/x');
      await upload(stack.url, 'b', 'live', { key: tenant.key });
      const testKey = await tenant.mintKey(['admin'], { mode: 'test' });
      assert.equal((await deliveries(tenant)).length, 1);
      const sandbox = await call(stack.url, '/webhooks/deliveries', { key: testKey });
      assert.deepEqual(sandbox.body.deliveries, []);
      const id = (await deliveries(tenant))[0]!.id;
      const foreign = await call(stack.url, `/webhooks/deliveries/${id}/retry`, {
        method: 'POST',
        key: quiet.key,
      });
      assert.equal(foreign.status, 404);
      const writer = await tenant.mintKey(['write']);
      assert.equal((await call(stack.url, '/webhooks/deliveries', { key: writer })).status, 403);
      assert.equal(
        (await call(stack.url, '/webhooks/deliveries?status=lost', { key: tenant.key })).status,
        400,
      );
    });
  });
}
