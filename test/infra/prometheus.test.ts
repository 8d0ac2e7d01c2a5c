import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { requireEnv, uniqueName } from '../support/env.ts';
import { eventually } from '../support/poll.ts';

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describe('Prometheus (real server scraping a prom-client target)', () => {
  let server: Server;
  let targetsFile: string;
  const job = uniqueName('infra');
  const registry = new Registry();
  const counter = new Counter({
    name: 'stowage_infra_test_events_total',
    help: 'events counted by the infra test',
    labelNames: ['kind'],
    registers: [registry],
  });

  before(async () => {
    server = createServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    targetsFile = join(requireEnv('PROMETHEUS_TARGETS_DIR'), `${job}.json`);
    writeFileSync(targetsFile, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job } }]));
  });

  after(() => {
    rmSync(targetsFile, { force: true });
    server.close();
  });

  const query = async (promql: string) => {
    const url = new URL('/api/v1/query', requireEnv('PROMETHEUS_URL'));
    url.searchParams.set('query', promql);
    const body = (await (await fetch(url)).json()) as QueryResponse;
    assert.equal(body.status, 'success');
    return body.data.result;
  };

  it('scrapes the target and stores its samples', async () => {
    counter.inc({ kind: 'upload' }, 3);
    const up = await eventually(async () => {
      const result = await query(`up{job="${job}"}`);
      return result.length > 0 ? result : undefined;
    }, 'the target to be scraped');
    assert.equal(up[0]!.value[1], '1');

    const samples = await eventually(async () => {
      const result = await query(`stowage_infra_test_events_total{job="${job}"}`);
      return result[0]?.value[1] === '3' ? result : undefined;
    }, 'the counter to reach Prometheus');
    assert.equal(samples[0]!.metric.kind, 'upload');
  });
});
