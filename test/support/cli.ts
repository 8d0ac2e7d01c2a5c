import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDockerfile } from '../../scripts/image/dockerfile.ts';
import { freePort } from '../../scripts/test-env/processes.ts';
import { watchApi } from './contract.ts';
import { eventually } from './poll.ts';

const repo = resolve(import.meta.dirname, '../..');
const source = resolve(repo, 'services/cli/src/main.ts');

/**
 * The built binary (`make build`) as production runs it: no TypeScript loader in the process, and the
 * Node.js flags of the image's ENTRYPOINT (`node [flags] services/cli/dist/main.js`, relative to /app).
 */
function compiledEntry(): string[] {
  const dockerfile = parseDockerfile(readFileSync(resolve(repo, 'Dockerfile'), 'utf8'));
  const [, ...args] = dockerfile.stages.at(-1)!.entrypoint!;
  return args.map((arg) => (arg.startsWith('-') ? arg : resolve(repo, arg)));
}

export interface CliOptions {
  compiled?: boolean;
  /** The node binary that runs it; this process's by default. */
  node?: string;
  /** How long start-up may take before the test gives up (a guard, not a measurement). */
  startDeadlineMs?: number;
}

/** A `stowage` process run from source, with everything it printed so far. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  stop(): Promise<void>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, options: CliOptions = {}): CliProcess {
  const entry = options.compiled ? compiledEntry() : ['--conditions=source', '--import', 'tsx', source];
  const child = spawn(options.node ?? process.execPath, [...entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return {
    child,
    output: () => output,
    stdout: () => stdout,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a `stowage` command to completion. */
export async function runCliToEnd(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string; stdout: string }> {
  const cli = runCli(args, env);
  const [code] = (await once(cli.child, 'exit')) as [number | null];
  return { code, output: cli.output(), stdout: cli.stdout() };
}

/** A long-running `stowage` process and where it serves. */
export interface CliServer extends CliProcess {
  /** The API (api and dev only). */
  url: string;
  metricsUrl: string;
  /** Its /metrics now, as Prometheus text. */
  metrics(): Promise<string>;
}

/**
 * Starts a long-running `stowage` command on free ports and waits until it is healthy: the API's
 * /healthz, or for the worker and the operator the /healthz beside their metrics. An API's responses
 * are checked against its /openapi.json from then on.
 */
export async function startCliServer(
  command: 'api' | 'dev' | 'worker' | 'operator',
  env: NodeJS.ProcessEnv,
  options: CliOptions = {},
): Promise<CliServer> {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const cli = runCli(
    [command],
    {
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      ...env,
    },
    options,
  );
  const ops = `http://127.0.0.1:${metricsPort}`;
  const servesApi = command === 'api' || command === 'dev';
  const health = servesApi ? `${url}/healthz` : `${ops}/healthz`;
  await eventually(
    async () => {
      if (cli.child.exitCode !== null) throw new Error(`stowage ${command} exited:\n${cli.output()}`);
      return (await fetch(health)).ok || undefined;
    },
    `stowage ${command} to be healthy`,
    options.startDeadlineMs,
  );
  const unwatch = servesApi ? await watchApi(url) : () => {};
  const metricsUrl = `${ops}/metrics`;
  return {
    ...cli,
    url,
    metricsUrl,
    metrics: async () => (await fetch(metricsUrl)).text(),
    async stop() {
      unwatch();
      await cli.stop();
    },
  };
}
