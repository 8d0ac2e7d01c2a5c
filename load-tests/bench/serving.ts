import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../../test/support/tools.ts';

export interface ServingResult {
  requestsPerSecond: number;
  p99Ms: number;
}

/**
 * Fetches `url` with k6 (load-tests/bench/serve.js: 16 users for 10 s), with `apiKey` in `x-api-key`
 * if given; requests per second and p99.
 */
export async function k6Serve(url: string, apiKey?: string): Promise<ServingResult> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-k6-'));
  try {
    const summary = join(dir, 'summary.json');
    const run = await runTool(
      'k6',
      ['run', '--quiet', '--summary-export', summary, join(import.meta.dirname, 'serve.js')],
      { URL: url, API_KEY: apiKey ?? '' },
    );
    if (run.code !== 0) throw new Error(`k6 failed:\n${run.stdout}${run.stderr}`);
    const metrics = (
      JSON.parse(await readFile(summary, 'utf8')) as { metrics: Record<string, Record<string, number>> }
    ).metrics;
    return { requestsPerSecond: metrics.http_reqs!.rate!, p99Ms: metrics.http_req_duration!['p(99)']! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
