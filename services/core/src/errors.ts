/** The error codes of the REST API and the HTTP status each maps to. */
export const errorStatus = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  QUOTA_EXCEEDED: 403,
  FORBIDDEN: 403,
  FILE_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RANGE_NOT_SATISFIABLE: 416,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMIT_EXCEEDED: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** One problem with a request's input: where (`body.size`, `query.limit`, `params.bucket`) and what. */
export interface FieldProblem {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** A hint for the human reading the error. */
  suggestion?: string;
  /** For invalid input: each problem found. */
  fields?: FieldProblem[];
}

/** An error meant for the client: its code, status and message are sent as they are. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly suggestion: string | undefined;
  readonly fields: FieldProblem[] | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.status = errorStatus[code];
    this.headers = options.headers ?? {};
    this.suggestion = options.suggestion;
    this.fields = options.fields;
  }
}

export const badRequest = (message: string, cause?: unknown) =>
  new AppError('BAD_REQUEST', message, { cause });
/** Input that breaks a route's schema: every problem, by where it is. */
export const invalidInput = (fields: FieldProblem[]) =>
  new AppError('BAD_REQUEST', `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, {
    fields,
  });
/** Every authentication failure looks the same, so a caller learns nothing about which keys exist. */
export const unauthorized = () => new AppError('UNAUTHORIZED', 'Invalid or missing API key');
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const quotaExceeded = () => new AppError('QUOTA_EXCEEDED', 'Storage quota exceeded');
export const fileNotFound = () => new AppError('FILE_NOT_FOUND', 'File not found');
export const payloadTooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `File exceeds the maximum size of ${limit} bytes`);
export const unsupportedMediaType = (message: string) => new AppError('UNSUPPORTED_MEDIA_TYPE', message);
export const serviceUnavailable = (message: string, retryAfterSeconds: number) =>
  new AppError('SERVICE_UNAVAILABLE', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
export const rateLimitExceeded = (headers: Record<string, string>) =>
  new AppError('RATE_LIMIT_EXCEEDED', 'Too many requests, please try again later.', { headers });
export const rangeNotSatisfiable = (size: number) =>
  new AppError('RANGE_NOT_SATISFIABLE', 'Requested range not satisfiable', {
    headers: { 'content-range': `bytes */${size}` },
  });
export const routeNotFound = () => new AppError('FILE_NOT_FOUND', 'Not found');
export const internalError = (cause?: unknown) =>
  new AppError('INTERNAL_SERVER_ERROR', 'Internal server error', { cause });
/** The seed's words for a bucket that was never declared or used, or was deleted. */
export const bucketNotFound = () => new AppError('FILE_NOT_FOUND', 'File or bucket not found');
