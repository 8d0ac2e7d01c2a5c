/**
 * Soak benchmark (not a test): k6's mixed traffic (load-tests/k6/mixed.js, with every upload deleted
 * again) at a steady rate for SOAK_MINUTES against the load-test stack run from the built JavaScript:
 * two `stowage api` replicas behind a round-robin proxy and a `stowage worker`. Samples each process's
 * resident memory, open file descriptors, event-loop delay and PostgreSQL connections, and records the
 * start and end of each (with the change) and k6's error rate in BENCHMARKS.md. The raw samples and
 * k6's summary go to a directory it prints.
 *
 *   make soak                    # SOAK_MINUTES=30, SOAK_RATE=40 (requests per second)
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { CliServer } from '../test/support/cli.ts';
import { metricValue } from '../test/support/operator.ts';
import { machine, recordBenchmarkRow } from './benchmarks-file.ts';
import { createTenant, generous, runK6, startLoadStack } from './load-stack.ts';
import { openFileDescriptors, rssBytes } from './process-usage.ts';

const MiB = 2 ** 20;
/** A start-to-end change beyond this (either way) is flagged: the process is not flat. */
const FLAT_PERCENT = 10;

const measures = {
  rss: { title: 'RSS', unit: 'MiB', digits: 0 },
  fds: { title: 'open fds', unit: '', digits: 1 },
  eventLoopP99: { title: 'event-loop delay p99', unit: 'ms', digits: 1 },
  dbConnections: { title: 'DB connections', unit: '', digits: 1 },
};
type Measure = keyof typeof measures;

interface Sample extends Record<Measure, number> {
  /** Since k6 started. */
  seconds: number;
  process: string;
  /** The machine's load average over the last minute: how busy the rest of it was. */
  load: number;
}

interface Target {
  name: string;
  server: CliServer;
  /** The prefix of its prom-client default metrics. */
  prefix: string;
}

function positiveSetting(name: string, fallback: number): number {
  const value = Number(process.env[name] || fallback);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, not ${process.env[name]}`);
  return value;
}

async function sampleProcess(target: Target, pgPort: number, pgClientPorts: number[], seconds: number) {
  const { child } = target.server;
  if (child.exitCode !== null || child.signalCode !== null)
    throw new Error(`${target.name} exited during the soak:\n${target.server.output()}`);
  const [rss, fds, metrics] = await Promise.all([
    rssBytes(child.pid!),
    openFileDescriptors(child.pid!, pgPort),
    target.server.metrics(),
  ]);
  // prom-client resets its event-loop histogram on every scrape: this is the p99 since the last sample.
  const lag = metricValue(metrics, `${target.prefix}nodejs_eventloop_lag_p99_seconds`);
  if (lag === undefined) throw new Error(`${target.name} does not export its event-loop delay`);
  return {
    seconds,
    process: target.name,
    load: loadavg()[0]!,
    rss: rss / MiB,
    fds: fds.count,
    eventLoopP99: lag * 1000,
    dbConnections: pgClientPorts.filter((port) => fds.localPorts.has(port)).length,
  };
}

/** One sample of every process; its database connections are its sockets that PostgreSQL lists. */
async function sampleAll(targets: Target[], pool: pg.Pool, pgPort: number, seconds: number) {
  const { rows } = await pool.query<{ client_port: number }>(
    'SELECT client_port FROM pg_stat_activity WHERE datname = current_database() AND client_port > 0',
  );
  const ports = rows.map((row) => row.client_port);
  return Promise.all(targets.map((target) => sampleProcess(target, pgPort, ports, seconds)));
}

/** Samples every `intervalMs` from `started` (a `performance.now()`) until `signal` aborts. */
async function sampleUntil(
  signal: AbortSignal,
  started: number,
  intervalMs: number,
  sample: (seconds: number) => Promise<Sample[]>,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  while (!signal.aborted) {
    samples.push(...(await sample((performance.now() - started) / 1000)));
    const elapsed = performance.now() - started;
    const next = (Math.floor(elapsed / intervalMs) + 1) * intervalMs;
    await sleep(next - elapsed, undefined, { signal }).catch(() => {}); // aborted: the loop ends
  }
  return samples;
}

function median(values: number[]): number {
  if (!values.length) throw new Error('no samples in a window: the run is too short');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Change {
  start: number;
  end: number;
  percent: number;
}

/**
 * The median of a measure over the start window and over the end window: minutes 10–15 and 25–30 of a
 * 30-minute run (thirds and sixths of the traffic's `duration` in a shorter one). The first third is
 * warm-up: an API's resident memory climbs until its bounded caches (64 MiB of small files, file rows,
 * keys) and heap settle, and only then shows whether anything grows that should not; in the first
 * 30-minute run on 2026-12-02 it went from 200 to 283 MiB in the first 9 minutes and by 2 % after that. Times count from
 * k6's start, so the requests it still finishes after `duration` are not in the end window.
 */
function change(samples: Sample[], measure: Measure | 'load', duration: number): Change {
  const warmUp = duration / 3;
  const window = duration / 6;
  const values = (keep: (s: Sample) => boolean) => samples.filter(keep).map((s) => s[measure]);
  const start = median(values((s) => s.seconds >= warmUp && s.seconds < warmUp + window));
  const end = median(values((s) => s.seconds >= duration - window && s.seconds <= duration));
  const percent = start === 0 ? (end === 0 ? 0 : Infinity) : ((end - start) / start) * 100;
  return { start, end, percent };
}

const isFlat = (c: Change) => Math.abs(c.percent) <= FLAT_PERCENT;

function cell(c: Change, measure: Measure): string {
  const { unit, digits } = measures[measure];
  const percent = Number.isFinite(c.percent)
    ? `${c.percent >= 0 ? '+' : ''}${c.percent.toFixed(1)} %`
    : 'from 0';
  // A median of whole counts may be a half; whole numbers show without a fraction.
  const show = (value: number) => String(Number(value.toFixed(digits)));
  const values = `${show(c.start)} → ${show(c.end)}${unit && ` ${unit}`}`;
  return `${values} (${isFlat(c) ? percent : `**${percent}**`})`;
}

function samplesCsv(samples: Sample[]): string {
  const lines = samples.map((s) => [
    s.seconds.toFixed(1),
    s.process,
    s.rss.toFixed(1),
    s.fds,
    s.eventLoopP99.toFixed(2),
    s.dbConnections,
    s.load.toFixed(2),
  ]);
  const header = ['seconds', 'process', 'rss_mib', 'open_fds', 'event_loop_p99_ms', 'db_connections', 'load'];
  return [header, ...lines].map((line) => line.join(',')).join('\n') + '\n';
}

interface K6Summary {
  metrics: Record<string, { values: Record<string, number> }>;
}

const columns = ['date', 'minutes', 'rate', 'requests', 'errors', 'process']
  .concat(Object.values(measures).map((m) => m.title))
  .concat('machine');

/** A row of the Soak table per process, and which of their figures are not flat. */
function soakRows(
  samples: Sample[],
  targets: Target[],
  run: { minutes: number; duration: number; rate: number; k6: K6Summary },
) {
  const { http_reqs: requests, http_req_failed: failed } = run.k6.metrics;
  const date = new Date().toISOString().slice(0, 10);
  const errors = `${(failed!.values.rate! * 100).toFixed(2)} %`;
  const flagged: string[] = [];
  const load = change(samples, 'load', run.duration);
  const on = `${machine()}, load ${load.start.toFixed(1)} → ${load.end.toFixed(1)}`;
  const rows = targets.map(({ name }) => {
    const own = samples.filter((s) => s.process === name);
    const changes = (Object.keys(measures) as Measure[]).map((m) => {
      const c = change(own, m, run.duration);
      if (!isFlat(c)) flagged.push(`${name} ${measures[m].title}`);
      return cell(c, m);
    });
    return [date, run.minutes, `${run.rate}/s`, requests!.values.count!, errors, name, ...changes, on];
  });
  return { rows, flagged };
}

async function main(): Promise<number> {
  const minutes = positiveSetting('SOAK_MINUTES', 30);
  const duration = Math.round(minutes * 60);
  const rate = positiveSetting('SOAK_RATE', 40);
  // Thirty samples in each window (see change), though never more often than each second.
  const intervalMs = Math.min(10, Math.max(1, duration / 180)) * 1000;
  const out = await mkdtemp(join(tmpdir(), 'stowage-soak-'));
  const summaryFile = join(out, 'k6-summary.json');
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const stack = await startLoadStack(cleanups, { compiled: true });
    const tenant = await createTenant(stack, 'soak', { rateLimits: generous });
    const targets: Target[] = [
      ...stack.apis.map((server, i) => ({ name: `api ${i + 1}`, server, prefix: 'stowage_api_' })),
      { name: 'worker', server: stack.worker, prefix: 'stowage_worker_' },
    ];
    const pgPort = Number(new URL(stack.db.url).port || 5432);
    console.log(
      `soak: ${minutes} min of mixed traffic at ${rate}/s to 2 API replicas and a worker, sampled every ${intervalMs / 1000} s`,
    );
    const stopSampling = new AbortController();
    const stopK6 = new AbortController();
    const started = performance.now();
    const k6Env = {
      DURATION: `${duration}s`,
      RATE: String(rate),
      DELETE_SHARE: '1',
      SUMMARY_JSON: summaryFile,
      STOWAGE_URL: stack.url,
      STOWAGE_KEY: tenant.key,
      STOWAGE_TENANT: tenant.id,
    };
    const [code, samples] = await Promise.all([
      runK6('mixed', k6Env, stopK6.signal).finally(() => stopSampling.abort()),
      sampleUntil(stopSampling.signal, started, intervalMs, (seconds) =>
        sampleAll(targets, stack.db.pool, pgPort, seconds),
      ).catch((err: unknown) => {
        stopK6.abort();
        throw err;
      }),
    ]);
    await writeFile(join(out, 'samples.csv'), samplesCsv(samples));
    console.log(`\nsamples and k6's summary: ${out}`);
    if (code !== 0 && code !== 99) throw new Error(`k6 exited ${code}`);

    const k6 = JSON.parse(await readFile(summaryFile, 'utf8')) as K6Summary;
    const { rows, flagged } = soakRows(samples, targets, { minutes, duration, rate, k6 });
    console.log(`| ${columns.join(' | ')} |`);
    for (const row of rows) {
      console.log(`| ${row.join(' | ')} |`);
      await recordBenchmarkRow('soak', row);
    }
    if (code === 99) console.error('k6 thresholds crossed (see its summary above)');
    if (flagged.length) console.error(`not flat within ${FLAT_PERCENT} %: ${flagged.join(', ')}`);
    return code === 99 || flagged.length ? 1 : 0;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error(err));
  }
}

process.exitCode = await main();
