/**
 * The test environment launcher: starts PostgreSQL, Redis, MinIO, etcd + kube-apiserver and Prometheus
 * on loopback, on free ports, with throw-away data, and waits until each is healthy. Then it either
 * runs a command with their settings in its environment, or prints the settings and waits for Ctrl-C:
 *
 *   tsx scripts/test-env/main.ts -- npm test     # run, tear down, exit with the command's status
 *   tsx scripts/test-env/main.ts                 # print `export NAME=value` lines, serve until Ctrl-C
 *
 * Before `--`, `--only postgres,redis,minio` starts only those servers and `--host <address>` has them
 * listen on that address instead of loopback (`make e2e`: the node's address, which pods reach).
 *
 * Everything is torn down on exit: after the command, on SIGINT/SIGTERM/SIGHUP, and on start-up failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { killAllNow, stopAll } from './processes.ts';
import {
  startKubernetes,
  startMinio,
  startPostgres,
  startPrometheus,
  startRedis,
  type Settings,
} from './servers.ts';

const root = resolve(import.meta.dirname, '../..');
const toolsBin = join(process.env.TOOLS_DIR ?? join(root, '.tools'), 'bin');
process.env.PATH = `${toolsBin}${delimiter}${process.env.PATH ?? ''}`;

const workDir = mkdtempSync(join(tmpdir(), 'stowage-env-'));
chmodSync(workDir, 0o755); // PostgreSQL may run as another user and must reach its data dir
let command: ChildProcess | undefined;

process.on('exit', () => {
  killAllNow();
  rmSync(workDir, { recursive: true, force: true });
});

let stopping = false;
async function shutDown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await stopAll();
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`[test-env] ${signal}: stopping the servers`);
    command?.kill(signal);
    void shutDown(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

function dir(name: string): string {
  const path = join(workDir, name);
  mkdirSync(path);
  return path;
}

const servers = {
  postgres: (host?: string) => startPostgres(dir('postgres'), host),
  redis: (host?: string) => startRedis(dir('redis'), host),
  minio: (host?: string) => startMinio(dir('minio'), host),
  kubernetes: () => startKubernetes(dir('kubernetes')),
  prometheus: () => startPrometheus(dir('prometheus')),
};

async function startAll(only: string[], host?: string): Promise<Settings> {
  const unknown = only.filter((name) => !(name in servers));
  if (unknown.length > 0) throw new Error(`unknown server ${unknown.join(', ')}`);
  const names = (Object.keys(servers) as (keyof typeof servers)[]).filter(
    (name) => only.length === 0 || only.includes(name),
  );
  const results = await Promise.allSettled(names.map((name) => servers[name](host)));
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0)
    throw new AggregateError(
      failures.map((f) => f.reason as unknown),
      'start-up failed',
    );
  const settings = Object.assign(
    {},
    ...results.map((r) => (r as PromiseFulfilledResult<Settings>).value),
  ) as Settings;
  return { ...settings, PATH: process.env.PATH ?? '', STOWAGE_TEST_ENV: workDir };
}

async function main(): Promise<void> {
  const separator = process.argv.indexOf('--');
  const argv = separator === -1 ? [] : process.argv.slice(separator + 1);
  const { values: flags } = parseArgs({
    args: process.argv.slice(2, separator === -1 ? undefined : separator),
    options: { only: { type: 'string', default: '' }, host: { type: 'string' } },
  });
  const started = Date.now();
  let settings: Settings;
  try {
    settings = await startAll(flags.only.split(',').filter(Boolean), flags.host);
  } catch (err) {
    for (const e of err instanceof AggregateError ? err.errors : [err])
      console.error(String(e instanceof Error ? e.message : e));
    return shutDown(1);
  }
  console.error(
    `[test-env] servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${workDir})`,
  );

  const [program, ...args] = argv;
  if (program === undefined) {
    for (const [name, value] of Object.entries(settings)) console.log(`export ${name}='${value}'`);
    console.error('[test-env] press Ctrl-C to stop and remove everything');
    return; // the signal handlers end the process
  }
  command = spawn(program, args, { stdio: 'inherit', env: { ...process.env, ...settings } });
  command.on('error', (err) => {
    console.error(`[test-env] cannot run ${program}: ${err.message}`);
    void shutDown(127);
  });
  command.on('exit', (code, signal) => void shutDown(code ?? (signal ? 128 : 1)));
}

await main();
