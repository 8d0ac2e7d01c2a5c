import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  cwd?: string;
  /** Killed after this long, which fails the run. */
  timeoutMs?: number;
}

/** Runs one of the installed tools (helm, k6, ...) and returns its exit code and output. */
export async function runTool(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  { cwd, timeoutMs = 0 }: ToolOptions = {},
): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await execFileAsync(tool, args, {
      env: { ...process.env, ...env },
      maxBuffer: 16 * 1024 * 1024,
      cwd,
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err; // not started (ENOENT and the like), or killed at its deadline
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
