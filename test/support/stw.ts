import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const main = resolve(import.meta.dirname, '../../services/stw/src/main.ts');
/** Records what stw sends, and holds part uploads back on request (see its header). */
const recorder = resolve(import.meta.dirname, 'stw-request-recorder.ts');
// Absolute, since stw runs in the user's folder, outside the repository.
const tsx = import.meta.resolve('tsx');

/** A person at a machine: a home folder with its config and state folders, and a folder to work in. */
export interface StwUser {
  home: string;
  /** The folder stw runs in. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function newStwUser(): Promise<StwUser> {
  const home = await mkdtemp(join(tmpdir(), 'stw-user-'));
  const cwd = join(home, 'work');
  await mkdir(cwd);
  return {
    home,
    cwd,
    // Only what a shell would have: no STOWAGE_* leaking in from the test's own environment.
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
    },
    remove: () => rm(home, { recursive: true, force: true }),
  };
}

export interface StwOptions {
  /** Added to the user's environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Where to record every request stw sends (method and URL, a line each). */
  requestLog?: string;
}

export interface StwResult {
  code: number | null;
  stdout: string;
  /** stdout as it came, for bytes that are not text. */
  stdoutBytes: Buffer;
  stderr: string;
}

/** The command line that runs stw from source, as `node` arguments. */
function nodeArgs(args: string[], options: StwOptions): string[] {
  const preload = options.requestLog ? ['--import', recorder] : [];
  return ['--conditions=source', '--import', tsx, ...preload, main, ...args];
}

function envOf(user: StwUser, options: StwOptions): NodeJS.ProcessEnv {
  return {
    ...user.env,
    ...options.env,
    ...(options.requestLog ? { STW_TEST_REQUEST_LOG: options.requestLog } : {}),
  };
}

/** A running stw and what it printed so far; `result` settles when it exits. */
export interface StwProcess {
  child: ChildProcess;
  stdout(): string;
  result: Promise<StwResult>;
}

export function startStw(user: StwUser, args: string[], options: StwOptions = {}): StwProcess {
  const child = spawn(process.execPath, nodeArgs(args, options), {
    cwd: user.cwd,
    env: envOf(user, options),
  });
  child.stdin.end(options.input ?? '');
  return collect(child);
}

function collect(child: ChildProcess): StwProcess {
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => stdout.push(d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = once(child, 'close').then(([code]) => {
    const stdoutBytes = Buffer.concat(stdout);
    return { code: code as number | null, stdout: stdoutBytes.toString(), stdoutBytes, stderr };
  });
  return { child, stdout: () => Buffer.concat(stdout).toString(), result };
}

/** Runs stw with stdout and stderr on pipes, as a script would. */
export const stw = (user: StwUser, args: string[], options: StwOptions = {}) =>
  startStw(user, args, options).result;

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * Runs stw on a pseudo-terminal (util-linux `script`), as a person would: what the terminal showed
 * comes back as `stdout`, stderr included.
 */
export async function stwOnTerminal(
  user: StwUser,
  args: string[],
  options: StwOptions = {},
): Promise<StwResult> {
  const command = [process.execPath, ...nodeArgs(args, options)].map(shellQuote).join(' ');
  const terminal = ['-qec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'];
  return collect(
    spawn('script', terminal, {
      cwd: user.cwd,
      env: envOf(user, options),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ).result;
}
