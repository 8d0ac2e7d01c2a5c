import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runTool } from '../support/tools.ts';

const script = `
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: 2,
  iterations: 20,
  thresholds: { checks: ['rate==1'], http_req_failed: ['rate==0'] },
};

export default function () {
  const res = http.get(__ENV.TARGET);
  check(res, { 'status is 200': (r) => r.status === 200, 'body is hello': (r) => r.body === 'hello' });
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
`;

interface Summary {
  metrics: Record<string, { values: Record<string, number> }>;
}

describe('k6 (a real run against a local HTTP server)', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let served = 0;

  before(async () => {
    server = createServer((req, res) => {
      served++;
      if (req.url === '/broken') res.writeHead(500).end('no');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'k6-test-'));
    writeFileSync(join(dir, 'script.js'), script);
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const k6 = (path: string, summary: string) =>
    runTool('k6', ['run', '--quiet', '--no-usage-report', join(dir, 'script.js')], {
      TARGET: `${base}${path}`,
      SUMMARY: join(dir, summary),
      K6_NO_COLOR: 'true',
    });

  it('runs a script, passes its thresholds and reports what it did', async () => {
    served = 0;
    const result = await k6('/hello', 'ok.json');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(served, 20);
    const summary = JSON.parse(readFileSync(join(dir, 'ok.json'), 'utf8')) as Summary;
    assert.equal(summary.metrics.http_reqs?.values.count, 20);
    assert.equal(summary.metrics.checks?.values.passes, 40);
  });

  it('fails the run when a threshold is crossed', async () => {
    const result = await k6('/broken', 'broken.json');
    assert.equal(result.code, 99, 'k6 exits 99 when thresholds fail');
    const summary = JSON.parse(readFileSync(join(dir, 'broken.json'), 'utf8')) as Summary;
    assert.equal(summary.metrics.checks?.values.fails, 40);
  });
});
