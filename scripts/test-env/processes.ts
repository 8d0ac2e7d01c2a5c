import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server started by the launcher, in a process group of its own so it can be stopped whole. */
export interface ServerProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

const running = new Set<ServerProcess>();

/** Asks the kernel for a free port on `host` (loopback unless told). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

/** Starts a process with its output in `logFile`. */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  options: StartOptions = {},
): ServerProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, {
      stdio: ['ignore', fd, fd],
      detached: true,
      env: { ...process.env, ...options.env },
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    });
    child.on('error', () => {}); // reported by waitUntil through exitCode/signalCode
    const server = { name, child, logFile };
    running.add(server);
    child.once('exit', () => running.delete(server));
    return server;
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
}

function logTail(server: ServerProcess): string {
  try {
    return readFileSync(server.logFile, 'utf8').split('\n').slice(-25).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Runs `command` to completion (for one-shot set-up steps like initdb); throws with its log on failure. */
export async function runToCompletion(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  options: StartOptions = {},
): Promise<void> {
  const step = startProcess(name, command, args, logFile, options);
  const code = await new Promise<number | null>((resolve) => {
    step.child.on('error', () => resolve(-1));
    step.child.on('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`${name} failed (exit ${code}):\n${logTail(step)}`);
}

/**
 * Polls `healthy` until it returns true. Fails early if the process dies, and after `timeoutMs`
 * (a start-up guard, not a measurement) with the tail of the server's log.
 */
export async function waitUntil(
  server: ServerProcess,
  healthy: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(server.child)) {
      throw new Error(`${server.name} exited during start-up:\n${logTail(server)}`);
    }
    if (await healthy().catch(() => false)) return;
    await sleep(150);
  }
  throw new Error(`${server.name} was not healthy after ${timeoutMs} ms:\n${logTail(server)}`);
}

/** Stops every started server's process group: SIGTERM, then SIGKILL if it lingers. */
export async function stopAll(graceMs = 10_000): Promise<void> {
  await Promise.all([...running].map((server) => stopProcess(server, graceMs)));
}

async function stopProcess({ child }: ServerProcess, graceMs: number): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const pid = child.pid;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Last resort for an exiting launcher: kill synchronously, no waiting. */
export function killAllNow(): void {
  for (const { child } of running)
    if (!exited(child) && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills one server's process group at once (a crash, not a shutdown) and waits until it has exited. */
export async function killProcess({ child }: ServerProcess): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGKILL');
  await gone;
}
