import type { UploadState } from './types.ts';
import type { ApiErrorCode, FieldProblem } from './wire.ts';

/**
 * What went wrong where no API answer says it: no answer at all (`NETWORK_ERROR`), the call's signal
 * aborted it (`ABORTED`), or an answer that is not the API's (`UNEXPECTED_RESPONSE`, e.g. a proxy's page
 * or the object store's XML).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'ABORTED' | 'UNEXPECTED_RESPONSE';

export type ErrorCode = ApiErrorCode | ClientErrorCode;

export interface StowageErrorInit {
  code: ErrorCode;
  status: number;
  message: string;
  requestId?: string | undefined;
  fields?: FieldProblem[] | undefined;
  suggestion?: string | undefined;
  retryAfterMs?: number | undefined;
  cause?: unknown;
}

/** Every failed call of the SDK throws this. */
export class StowageError extends Error {
  override name = 'StowageError';
  readonly code: ErrorCode;
  /** The HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The request's id (`x-request-id`), to find it in the API's logs. */
  readonly requestId: string | undefined;
  /** The invalid fields of a `BAD_REQUEST`. */
  readonly fields: FieldProblem[] | undefined;
  /** A hint for the person reading the error. */
  readonly suggestion: string | undefined;
  /** How long the API asked to wait before trying again (`Retry-After`). */
  readonly retryAfterMs: number | undefined;
  /**
   * Set when a direct upload was interrupted while still live: pass it as `resume` to continue it, or to
   * `abortUpload` to give it up (its quota stays reserved until then, or until it expires).
   */
  uploadState: UploadState | undefined;

  constructor(init: StowageErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.requestId = init.requestId;
    this.fields = init.fields;
    this.suggestion = init.suggestion;
    this.retryAfterMs = init.retryAfterMs;
    this.uploadState = undefined;
  }
}

/** `Retry-After` in milliseconds (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isErrorBody(
  body: unknown,
): body is { code: ApiErrorCode; message: string } & Record<string, unknown> {
  if (typeof body !== 'object' || body === null) return false;
  const { success, code, message } = body as Record<string, unknown>;
  return success === false && typeof code === 'string' && typeof message === 'string';
}

/** The error an unsuccessful answer stands for: the API's own, or one built from the status. */
export async function errorFromResponse(res: Response): Promise<StowageError> {
  const status = res.status;
  const retryAfter = retryAfterMs(res.headers.get('retry-after'));
  const requestId = res.headers.get('x-request-id') ?? undefined;
  const text = await res.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    return new StowageError({
      code: body.code,
      status,
      message: body.message,
      requestId: typeof body.requestId === 'string' ? body.requestId : requestId,
      fields: Array.isArray(body.fields) ? (body.fields as FieldProblem[]) : undefined,
      suggestion: typeof body.suggestion === 'string' ? body.suggestion : undefined,
      retryAfterMs: retryAfter,
    });
  }
  // S3 says what went wrong in <Code> and <Message>.
  const said = /<Code>([^<]*)<\/Code>(?:[\s\S]*?<Message>([^<]*)<\/Message>)?/.exec(text);
  return new StowageError({
    code: 'UNEXPECTED_RESPONSE',
    status,
    message: said ? `${said[1]}: ${said[2] ?? ''}`.trim() : `HTTP ${status} ${res.statusText}`.trim(),
    requestId,
    retryAfterMs: retryAfter,
  });
}

/** The error for a call its signal aborted. */
export const abortedError = (signal: AbortSignal) =>
  new StowageError({ code: 'ABORTED', status: 0, message: 'The call was aborted', cause: signal.reason });

/** The error for a request that got no answer. */
export const networkError = (cause: unknown) =>
  new StowageError({
    code: 'NETWORK_ERROR',
    status: 0,
    message: `No answer: ${cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)}`,
    cause,
  });
