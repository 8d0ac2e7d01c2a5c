import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireEnv } from './env.ts';
import { eventually } from './poll.ts';

/** One file_sd target group: `host:port` addresses and the labels Prometheus puts on their series. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The `data` of an answer of Prometheus's `/api/v1/query`. */
export type QueryData =
  | { resultType: 'vector'; result: { metric: Record<string, string>; value: [number, string] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] };

/**
 * Has the test environment's Prometheus scrape `groups` (each second), until the returned function is
 * called. The file appears whole: a half-written one would be a discovery error.
 */
export function scrapeTargets(name: string, groups: TargetGroup[]): () => void {
  const file = join(requireEnv('PROMETHEUS_TARGETS_DIR'), `${name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(groups));
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

/** Evaluates `promql` at `time` (seconds since the epoch; now if omitted); throws on a PromQL error. */
export async function instantQuery(promql: string, time?: number): Promise<QueryData> {
  const url = new URL('/api/v1/query', requireEnv('PROMETHEUS_URL'));
  url.searchParams.set('query', promql);
  if (time !== undefined) url.searchParams.set('time', String(time));
  const body = (await (await fetch(url)).json()) as { status: string; error?: string; data: QueryData };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error ?? body.status}`);
  return body.data;
}

/**
 * Waits until each of `count` targets matched by `selector` (e.g. `namespace="x"`) has been scraped
 * successfully by a scrape that began at or after `since` (seconds since the epoch). Resolves to the
 * latest of those scrapes' times: a query evaluated then sees every target as it was after `since`.
 */
export async function scrapedSince(selector: string, count: number, since: number): Promise<number> {
  return eventually(async () => {
    const data = await instantQuery(`timestamp(up{${selector}} == 1)`);
    if (data.resultType !== 'vector' || data.result.length !== count) return undefined;
    const times = data.result.map((sample) => Number(sample.value[1]));
    return times.every((t) => t >= since) ? Math.max(...times) : undefined;
  }, `${count} targets {${selector}} to be scraped after ${since}`);
}
