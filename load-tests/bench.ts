/**
 * `make bench`: Stowage side by side with the direct path, in one run on one machine, several runs of
 * each measurement (BENCH_RUNS, default 3). Everything runs on the test environment's real servers: a
 * `stowage api` (built JavaScript) on PostgreSQL, Redis and MinIO.
 *
 *   - upload and download throughput of 1 MiB, 64 MiB and 1 GiB objects, all by curl: through the API
 *     (raw PUT; GET streamed, and GET redirected to S3 by a second API with DOWNLOAD_REDIRECT_SIZE)
 *     against a presigned PUT and GET straight to MinIO, and the same presigned requests through a bare
 *     Node.js TCP relay (what any process in the path costs);
 *   - small-file serving (4 KiB public and protected, 256 KiB public; k6, 16 users): requests per
 *     second and p99, API against MinIO;
 *   - the time a rate-limit check takes (Redis, and the in-process limiter);
 *   - image variants per second through the worker against the variant function alone;
 *   - the API's peak RSS while it streams a 2 GiB multipart upload;
 *   - for one release, the 1 MiB and 64 MiB transfers and 4 KiB serving also through the same API run by
 *     Node 20 (BENCH_NODE20, or a `node` v20 found on PATH or in /usr/bin), beside the project's Node 24.
 *
 * It rewrites the "Side by side" section of BENCHMARKS.md with median (min–max) of the runs.
 */
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { release } from 'node:os';
import { loadBefore, machine, replaceBenchmarkSection } from './benchmarks-file.ts';
import type { CliServer } from '../test/support/cli.ts';
import {
  findNode20,
  startBenchStack,
  startTransferPaths,
  type BenchStack,
  type TransferPaths,
} from './bench/stack.ts';
import { curl, directUrl, randomFile, timedUpload, type Transfer } from './bench/transfer.ts';
import { k6Serve } from './bench/serving.ts';
import { limiterLatency } from './bench/limiter.ts';
import { measureUploadMemory } from './upload-memory.ts';
import { describePhases, measureVariants } from './variants-throughput.ts';

const runs = Number(process.env.BENCH_RUNS ?? 3);
/** BENCH_ONLY=transfers,serving,limiter,variants,memory picks some; all by default. */
const only = new Set((process.env.BENCH_ONLY ?? 'transfers,serving,limiter,variants,memory').split(','));
const MiB = 2 ** 20;
/** How rows name the API run by Node 20 beside the project's Node 24, for one release. */
const NODE_20 = 'API on Node 20';
const sizes = [
  { label: '1 MiB', bytes: MiB, count: 64 },
  { label: '64 MiB', bytes: 64 * MiB, count: 6 },
  { label: '1 GiB', bytes: 1024 * MiB, count: 2 },
];

interface Row {
  what: string;
  unit: string;
  stowage: number[];
  /** The direct path (or bare sharp), when there is one to compare with. */
  direct: number[];
  /** How to read the ratio. */
  better: 'higher' | 'lower';
}

const rows = new Map<string, Row>();
function record(what: string, unit: string, better: Row['better'], stowage: number, direct?: number) {
  const row = rows.get(what) ?? { what, unit, stowage: [], direct: [], better };
  row.stowage.push(stowage);
  if (direct !== undefined) row.direct.push(direct);
  rows.set(what, row);
}

/**
 * Runs the transfers one after another, starting with a different one each `turn`, so that none always
 * meets the machine as another left it (page cache, memory, MinIO's state); results in the given order.
 */
async function inTurn<T extends Partial<Record<string, () => Promise<Transfer>>>>(
  turn: number,
  transfers: T,
): Promise<{ [K in keyof T]: Transfer }> {
  const named = Object.entries(transfers).filter((entry) => entry[1] !== undefined);
  const results: Record<string, Transfer> = {};
  for (let n = 0; n < named.length; n++) {
    const [name, transfer] = named[(turn + n) % named.length]!;
    results[name] = await transfer!();
  }
  return results as { [K in keyof T]: Transfer };
}

/** The files transfers send: one of random bytes per size, written once for every run. */
type Sources = Map<number, string>;

/** The sizes the API on Node 20 transfers too: where the runtime's work per request shows. */
const ON_NODE_20 = new Set([MiB, 64 * MiB]);

/** A raw PUT of `source` into the bench bucket through `api`. */
const apiPut = (stack: BenchStack, api: CliServer, name: string, source: string) =>
  curl(`${api.url}/upload/bench/${name}.bin`, {
    upload: source,
    headers: { 'x-api-key': stack.key, 'content-type': 'application/octet-stream' },
  });

async function transfers(stack: BenchStack, run: number, sources: Sources) {
  const auth = { 'x-api-key': stack.key };
  const via = await startTransferPaths();
  try {
    await warmUp(stack, via, sources.get(WARM_UP_BYTES)!);
    for (const { label, bytes, count } of sizes) {
      const source = sources.get(bytes)!;
      const node20 = ON_NODE_20.has(bytes) ? stack.apiOnNode20 : undefined;
      const seconds = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const name = `r${run}-${label.replace(' ', '')}-${i}`;
        const puts = await inTurn(run + i, {
          directPut: async () =>
            curl(await directUrl(stack.s3, 'PUT', stack.storageBucket, name), { upload: source }),
          put: () => apiPut(stack, stack.api, name, source),
          relayedPut: async () =>
            curl(await directUrl(stack.s3, 'PUT', stack.storageBucket, `${name}-relayed`), {
              upload: source,
              connectTo: via.relayTo,
            }),
          ...(node20 && { putOnNode20: () => apiPut(stack, node20, `${name}-node20`, source) }),
        });
        for (const [what, done] of Object.entries(puts)) {
          const expected = what.startsWith('put') ? 201 : 200;
          if (done.status !== expected) throw new Error(`${what} answered ${done.status}: ${done.body}`);
        }
        const { key } = (JSON.parse(puts.put.body) as { file: { key: string } }).file;
        // All of them read the object the API stored, so only the way it is served differs.
        const path = `/${stack.tenantId}/bench/${key}`;
        const gets = await inTurn(run + i, {
          directGet: async () => curl(await directUrl(stack.s3, 'GET', stack.storageBucket, `bench/${key}`)),
          get: () => curl(`${stack.api.url}${path}`, { headers: auth }),
          redirectedGet: () => curl(`${via.redirecting.url}${path}`, { headers: auth, follow: true }),
          relayedGet: async () =>
            curl(await directUrl(stack.s3, 'GET', stack.storageBucket, `bench/${key}`), {
              connectTo: via.relayTo,
            }),
          ...(node20 && { getOnNode20: () => curl(`${node20.url}${path}`, { headers: auth }) }),
        });
        for (const [what, got] of Object.entries(gets)) {
          if (got.status !== 200) throw new Error(`${what} answered ${got.status}`);
        }
        for (const [what, done] of Object.entries({ ...puts, ...gets }))
          seconds.set(what, (seconds.get(what) ?? 0) + done.seconds);
      }
      const rate = (what: string) => (bytes * count) / MiB / seconds.get(what)!;
      const times = count > 1 ? ` (×${count})` : '';
      const relay = 'a bare Node.js TCP relay instead of Stowage';
      const measured = [
        [`upload ${label}${times}`, 'put', 'directPut'],
        [`upload ${label}${times}, ${NODE_20}`, 'putOnNode20', 'directPut'],
        [`upload ${label}${times}, ${relay}`, 'relayedPut', 'directPut'],
        [`download ${label}${times}`, 'get', 'directGet'],
        [`download ${label}${times}, ${NODE_20}`, 'getOnNode20', 'directGet'],
        [`download ${label}${times}, redirected to S3`, 'redirectedGet', 'directGet'],
        [`download ${label}${times}, ${relay}`, 'relayedGet', 'directGet'],
      ] as const;
      for (const [what, path, direct] of measured)
        if (seconds.has(path)) record(what, 'MiB/s', 'higher', rate(path), rate(direct));
    }
  } finally {
    await via.stop();
  }
}

const WARM_UP_BYTES = 64 * MiB;

/**
 * Untimed transfers before the timed ones, four rounds of 64 MiB: an upload and a download through
 * each API (and its Node 20 twin), a download by way of the redirecting API, and an upload straight to
 * MinIO. A fresh API process needs a few hundred MiB before its JIT code and the memory it copies through are warm (in
 * one-off runs on 2026-11-22 its first 64 MiB uploads cost it 0.30–0.43 s of CPU, later ones
 * 0.13–0.18 s), and a long-running API is what is being measured.
 */
async function warmUp(stack: BenchStack, via: TransferPaths, source: string) {
  const auth = { 'x-api-key': stack.key };
  const direct = await directUrl(stack.s3, 'PUT', stack.storageBucket, 'warm-up');
  const apis = [stack.api, ...(stack.apiOnNode20 ? [stack.apiOnNode20] : [])];
  for (let i = 0; i < 4; i++) {
    let pathname = '';
    for (const api of apis) {
      const put = await apiPut(stack, api, 'warm-up', source);
      pathname = new URL((JSON.parse(put.body) as { url: string }).url).pathname;
      await curl(`${api.url}${pathname}`, { headers: auth });
    }
    await curl(`${via.redirecting.url}${pathname}`, { headers: auth, follow: true });
    await curl(direct, { upload: source });
  }
}

/**
 * Serving one small file with k6, through the API and by a presigned GET straight from MinIO: a 4 KiB
 * public file, the same size protected (read with the tenant's key), and a 256 KiB public file (the
 * largest the API keeps in memory). The 4 KiB files through the API on Node 20 too.
 */
async function serving(stack: BenchStack) {
  const cases = [
    { label: '4 KiB', size: 4096, query: '', onNode20: true },
    {
      label: '4 KiB, protected',
      size: 4096,
      query: '?allowPublicAccess=false',
      key: stack.key,
      onNode20: true,
    },
    { label: '256 KiB', size: 256 * 1024, query: '', onNode20: false },
  ];
  for (const { label, size, query, key, onNode20 } of cases) {
    const put = await timedUpload(`${stack.api.url}/upload/serve/small.bin${query}`, 'PUT', size, {
      'x-api-key': stack.key,
      'content-type': 'application/octet-stream',
    });
    const { url, file } = JSON.parse(put.body) as { url: string; file: { key: string } };
    const viaApi = await k6Serve(`${stack.api.url}${new URL(url).pathname}`, key);
    const direct = await k6Serve(await directUrl(stack.s3, 'GET', stack.storageBucket, `serve/${file.key}`));
    const what = `small-file serving (${label}, 16 users)`;
    record(what, 'req/s', 'higher', viaApi.requestsPerSecond, direct.requestsPerSecond);
    record(`${what}, p99`, 'ms', 'lower', viaApi.p99Ms, direct.p99Ms);
    if (onNode20 && stack.apiOnNode20) {
      const viaNode20 = await k6Serve(`${stack.apiOnNode20.url}${new URL(url).pathname}`, key);
      record(`${what}, ${NODE_20}`, 'req/s', 'higher', viaNode20.requestsPerSecond, direct.requestsPerSecond);
      record(`${what}, ${NODE_20}, p99`, 'ms', 'lower', viaNode20.p99Ms, direct.p99Ms);
    }
  }
}

async function limiter() {
  const redis = await limiterLatency(process.env.REDIS_URL);
  const memory = await limiterLatency(undefined);
  record('rate-limit check, Redis', 'ms', 'lower', redis.medianMs);
  record('rate-limit check, Redis, p99', 'ms', 'lower', redis.p99Ms);
  record('rate-limit check, in process', 'ms', 'lower', memory.medianMs);
}

async function variants() {
  const made = await measureVariants();
  const what = `image variants (${made.images} × 2400x1600 JPEG), worker vs the variant function alone`;
  record(what, 'images/s', 'higher', made.worker, made.alone);
  console.log(`variant job phases: ${describePhases(made.phases)}`);
}

async function memory() {
  const upload = await measureUploadMemory(2 * 1024 * MiB);
  record('API peak RSS, 2 GiB multipart upload', 'MiB', 'lower', upload.peakRss / MiB);
}

const stat = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)! };
};
const figure = (values: number[], unit: string) => {
  if (values.length === 0) return '—';
  const { min, median, max } = stat(values);
  // Three significant digits, so that sub-millisecond latencies still show.
  const f = (n: number) => (n >= 100 ? n.toFixed(0) : n.toPrecision(3));
  return `${f(median)} ${unit} (${f(min)}–${f(max)})`;
};

function table(): string {
  const lines = [
    '| measurement | through Stowage | direct / baseline | Stowage ÷ direct (median of runs) | better |',
    '| ----------- | --------------- | ----------------- | --------------------------------- | ------ |',
  ];
  for (const row of rows.values()) {
    // Each run's own ratio (the two paths measured back to back), then their median: drift of the
    // machine between runs cancels out.
    const ratios = row.direct.map((direct, i) => row.stowage[i]! / direct);
    const ratio = ratios.length ? stat(ratios).median.toFixed(2) : '—';
    lines.push(
      `| ${row.what} | ${figure(row.stowage, row.unit)} | ${figure(row.direct, row.unit)} | ${ratio} | ${row.better} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const started = new Date();
  const load = loadBefore();
  const node20 = findNode20();
  const node20Version = node20 && execFileSync(node20, ['--version'], { encoding: 'utf8' }).trim();
  console.log(
    node20Version
      ? `the rows "${NODE_20}" run ${node20} (${node20Version})`
      : `no Node 20 here (BENCH_NODE20 names one): the rows "${NODE_20}" are left out`,
  );
  const sources: Sources = new Map();
  if (only.has('transfers')) {
    for (const bytes of new Set([WARM_UP_BYTES, ...sizes.map((size) => size.bytes)]))
      sources.set(bytes, await randomFile(bytes));
  }
  try {
    for (let run = 0; run < runs; run++) {
      console.log(`run ${run + 1} of ${runs}`);
      const stack = await startBenchStack(node20);
      try {
        if (only.has('transfers')) await transfers(stack, run, sources);
        if (only.has('serving')) await serving(stack);
      } finally {
        await stack.stop();
      }
      if (only.has('limiter')) await limiter();
      if (only.has('variants')) await variants();
      if (only.has('memory')) await memory();
    }
  } finally {
    for (const file of sources.values()) await rm(file);
  }
  const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1);
  console.log(table());
  if (only.size < 5) return; // a partial run is for looking, not for the record
  const node = `Node ${process.version}${node20Version ? ` (${NODE_20}: ${node20Version})` : ''}`;
  const on = `${machine()} RAM, Linux ${release()}, ${node}, ${load}`;
  await replaceBenchmarkSection(
    'bench',
    `Last run: ${started.toISOString().slice(0, 10)}, ${runs} runs in ${minutes} min, on ${on}. Figures are median (min–max) over the runs.\n\n${table()}`,
  );
}

await main();
