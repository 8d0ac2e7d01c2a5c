import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { getFileById } from '@stowage/core';
import { chartDir, panelQueries, withIntervals, type Dashboard } from '../chart/chart.ts';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { requireEnv, uniqueName } from '../support/env.ts';
import { call, upload } from '../support/http.ts';
import { imageCorpus } from '../support/image-corpus.ts';
import {
  createNamespace,
  deleteNamespace,
  installStorageTenantCrd,
  testKubeConfig,
} from '../support/kube.ts';
import { OperatorHarness, TenantApi, s3Env, type OperatorProcess } from '../support/operator.ts';
import { eventually } from '../support/poll.ts';
import { instantQuery, scrapeTargets, scrapedSince, type QueryData } from '../support/prometheus.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

// The chart ships these files verbatim as ConfigMaps (templates/monitoring/configmap.yaml).
const dashboardDir = join(chartDir, 'dashboards');
const dashboards: (Dashboard & { file: string })[] = readdirSync(dashboardDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    ...(JSON.parse(readFileSync(join(dashboardDir, file), 'utf8')) as Dashboard),
    file,
  }));

/**
 * Narrows every Stowage selector of `expr` to `matcher`. Prometheus is shared by test files running in
 * parallel: narrowed, a query proves this stack produced the data, and what returns data narrowed does
 * so unnarrowed too (the dashboards only aggregate, divide and `or`).
 */
const narrowed = (expr: string, matcher: string) =>
  expr.replace(
    /\b(stowage_\w+)(?:\{([^}]*)\})?/g,
    (_whole, name: string, labels?: string) => `${name}{${labels ? `${labels},${matcher}` : matcher}}`,
  );

/** What a panel can draw: a sample that is a number (an empty rate makes histogram_quantile NaN). */
function hasData(data: QueryData): boolean {
  if (data.resultType === 'vector') return data.result.some((sample) => sample.value[1] !== 'NaN');
  if (data.resultType === 'scalar') return data.result[1] !== 'NaN';
  return false;
}

const QUOTA_BYTES = 64 * 1024;

describe('Grafana dashboards, every panel query against Prometheus scraping a running stack', () => {
  const namespace = uniqueName('dashboards');
  const selector = `namespace="${namespace}"`;
  const tenants = new TenantApi(namespace);
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  let db: TestDatabase;
  let api: CliServer;
  let worker: CliServer;
  let operator: OperatorProcess;
  let hooks: WebhookReceiver;
  let stopScraping = () => {};
  /** When the queries are evaluated: after the second round of traffic has been scraped. */
  let evaluatedAt: number;
  /**
   * The window of rate() and friends: $__rate_interval is at least four scrape intervals as the data
   * source knows them (15s unless configured), so 1m, or longer if the traffic took longer (a loaded
   * machine), so that the window holds all of it.
   */
  let windowSeconds: number;

  const startWorker = (env: NodeJS.ProcessEnv) =>
    startCliServer('worker', { ...env, QUEUE_PREFIX: uniqueName('dashboards'), LOG_LEVEL: 'warn' });

  /**
   * The labels the chart's ServiceMonitor would give each Service's series (job and service are the
   * Service's name, namespace the release's). The dashboards select on none of them; the queries here
   * are narrowed to this namespace.
   */
  const target = (component: string, metricsUrl: string) => ({
    targets: [new URL(metricsUrl).host],
    labels: { job: `stowage-${component}`, service: `stowage-${component}`, namespace, endpoint: 'metrics' },
  });

  const secretValue = async (name: string, field: string) => {
    const secret = await core.readNamespacedSecret({ name, namespace });
    return Buffer.from(secret.data![field]!, 'base64').toString();
  };

  /** One round of what users do, including what goes wrong: each dashboard panel has something to show. */
  async function driveTraffic(
    tenantId: string,
    key: string,
    corpus: Awaited<ReturnType<typeof imageCorpus>>,
  ) {
    // Three images get variants; the decompression bomb is refused by the worker, a variant failure.
    const images = [corpus.png, corpus.webp, corpus.smallerThanThumb, corpus.bomb];
    const uploaded = await Promise.all(images.map((image) => upload(api.url, 'photos', image.data, { key })));
    for (const res of uploaded) assert.equal(res.status, 201, JSON.stringify(res.body));

    const doc = await upload(api.url, 'docs', 'notes for the dashboards', { key, filename: 'notes.txt' });
    assert.equal(doc.status, 201, JSON.stringify(doc.body));
    const served = await fetch(`${api.url}${new URL(doc.body.url as string).pathname}`);
    assert.equal(served.status, 200);
    assert.equal(await served.text(), 'notes for the dashboards');
    const cached = await fetch(served.url, { headers: { 'if-none-match': served.headers.get('etag')! } });
    assert.equal(cached.status, 304);
    assert.equal((await fetch(`${api.url}/${tenantId}/docs/${randomUUID()}.txt`)).status, 404);

    assert.equal((await call(api.url, '/files/photos', { key })).status, 200);
    assert.equal((await call(api.url, '/files/photos?limit=0', { key })).status, 400);
    assert.equal((await call(api.url, '/usage', { key: `stw_live_${'0'.repeat(38)}` })).status, 401);
    // The tenant may read its usage twice a minute.
    const usage = await Promise.all([1, 2, 3].map(() => call(api.url, '/usage', { key })));
    assert.ok(
      usage.some((res) => res.status === 429),
      `a usage call is rate-limited: ${usage.map((r) => r.status)}`,
    );
    const tooBig = await upload(api.url, 'docs', Buffer.alloc(QUOTA_BYTES + 1), { key });
    assert.equal(tooBig.status, 403, JSON.stringify(tooBig.body));
    assert.equal(tooBig.body.code, 'QUOTA_EXCEEDED');

    await eventually(async () => {
      const files = await Promise.all(
        uploaded.map((res) => getFileById(db.pool, tenantId, 'photos', res.body.file.id as string)),
      );
      return files.every((file) => file && file.variantStatus !== 'pending') || undefined;
    }, 'the worker to finish the images');
    // The events of this round (uploads, variants) are delivered before the round is scraped.
    await eventually(async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'",
      );
      return rows[0]!.n === 0 || undefined;
    }, 'the webhooks to be delivered');
  }

  before(async () => {
    await installStorageTenantCrd();
    await createNamespace(namespace);
    db = await databaseBackends[0].create();
    hooks = await startWebhookReceiver();
    const infra = {
      DATABASE_URL: db.url,
      REDIS_URL: requireEnv('REDIS_URL'),
      ...s3Env(),
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_POLL_MS: '200',
    };
    api = await startCliServer('api', infra);
    worker = await startWorker(infra);
    operator = await new OperatorHarness({ namespace, databaseUrl: db.url, publicUrl: api.url }).start();
    stopScraping = scrapeTargets(namespace, [
      target('api', api.metricsUrl),
      target('worker', worker.metricsUrl),
      target('operator', operator.metricsUrl),
    ]);

    await tenants.create('media', {
      quota: { storage: QUOTA_BYTES },
      rateLimits: { usage: 2 },
      buckets: [{ name: 'docs', public: true }],
      apiKeys: [{ name: 'app' }],
      webhooks: [{ name: 'app', url: hooks.url }],
    });
    // A key Secret's name taken by a Secret the tenant does not own: KeysReady fails, and is retried.
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'squatted-app-key' }, stringData: { apiKey: 'not ours' } },
    });
    await tenants.create('squatted', { apiKeys: [{ name: 'app' }] });
    const media = await tenants.waitFor('media');
    const squatted = await tenants.waitFor('squatted', 'KeysReady', 'False');
    assert.equal(squatted.status?.conditions?.find((c) => c.type === 'KeysReady')?.reason, 'KeyError');
    const key = await secretValue('media-app-key', 'apiKey');
    const corpus = await imageCorpus();

    // Two rounds: rate() only sees increases between samples, so a series the first round creates
    // (a route, a status, a job result) is scraped before the second round moves it. A second's
    // margin: the API counts a request when its response closes, a moment after the client read it.
    const started = await scrapedSince(selector, 3, 0);
    for (let round = 0; round < 2; round++) {
      await driveTraffic(media.status!.tenantId!, key, corpus);
      evaluatedAt = await scrapedSince(selector, 3, Date.now() / 1000 + 1);
    }
    windowSeconds = Math.max(60, Math.ceil(evaluatedAt - started) + 2);
  });

  after(async () => {
    stopScraping();
    await operator?.stop();
    await worker?.stop();
    await api?.stop();
    await hooks?.close();
    await db?.drop();
    await deleteNamespace(namespace);
  });

  for (const dashboard of dashboards) {
    it(`${dashboard.title} (${dashboard.file}): every panel query returns data`, async () => {
      const queries = panelQueries(dashboard);
      assert.ok(queries.length > 0, `${dashboard.file} has no panel queries`);
      const empty: string[] = [];
      for (const query of queries) {
        const expr = withIntervals(query.expr, `${windowSeconds}s`);
        assert.doesNotMatch(expr, /\$/, `${dashboard.title}: "${query.panel}" uses an unknown variable`);
        const data = await instantQuery(narrowed(expr, selector), evaluatedAt);
        if (!hasData(data))
          empty.push(`"${query.panel}" (${query.refId}): ${query.expr} -> ${JSON.stringify(data.result)}`);
      }
      assert.deepEqual(empty, [], `${dashboard.title}: panel queries without data\n${empty.join('\n')}`);
    });
  }
});
