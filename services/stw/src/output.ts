import { CommanderError } from 'commander';
import { StowageError } from '@stowage/sdk/node';
import { UsageError } from './usage-error.ts';

export const EXIT_OK = 0;
export const EXIT_API_ERROR = 1;
export const EXIT_USAGE = 2;

/**
 * What a command says: lines for a person, or with `--json` one JSON document on stdout and nothing
 * else there (errors still go to stderr in words, for the person running the script).
 */
export class Output {
  constructor(
    readonly json: boolean,
    readonly stdout: NodeJS.WriteStream = process.stdout,
    readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A line of the human answer; nothing with `--json`. */
  line(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A line about something that went wrong, on stderr. */
  problem(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** The `--json` answer; nothing without it. */
  document(doc: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(doc)}\n`);
  }

  /** Reports an error that ended a command and gives the exit code it stands for. */
  fail(error: unknown): number {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE; // it printed
    if (error instanceof UsageError) {
      this.problem(`stw: ${error.message}`);
      return EXIT_USAGE;
    }
    this.problem(`stw: ${describeError(error)}`);
    this.document(errorDocument(error));
    return EXIT_API_ERROR;
  }
}

/** An error in one line: the API's code and message and the request's id, to look it up in the API's logs. */
export function describeError(error: unknown): string {
  if (!(error instanceof StowageError)) return error instanceof Error ? error.message : String(error);
  const fields = error.fields?.map((f) => `${f.path}: ${f.message}`).join('; ');
  return [
    `${error.code}: ${error.message}`,
    fields ? ` (${fields})` : '',
    error.suggestion ? ` ${error.suggestion}` : '',
    error.requestId ? ` [request id ${error.requestId}]` : '',
  ].join('');
}

/** An error as `--json` reports it: the API's error shape. */
export function errorDocument(error: unknown): Record<string, unknown> {
  if (!(error instanceof StowageError)) {
    return { success: false, code: 'CLIENT_ERROR', message: describeError(error) };
  }
  return {
    success: false,
    code: error.code,
    message: error.message,
    ...(error.requestId ? { requestId: error.requestId } : {}),
    ...(error.fields ? { fields: error.fields } : {}),
    ...(error.suggestion ? { suggestion: error.suggestion } : {}),
  };
}
