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
  REQUEST_TIMEOUT: 408,
  REQUEST_HEADER_FIELDS_TOO_LARGE: 431,
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
export const forbidden = (message: string, suggestion?: string) =>
  new AppError('FORBIDDEN', message, { suggestion });
export const quotaExceeded = () => new AppError('QUOTA_EXCEEDED', 'Storage quota exceeded');
export const fileNotFound = () => new AppError('FILE_NOT_FOUND', 'File not found');
export const payloadTooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `File exceeds the maximum size of ${limit} bytes`);
export const unsupportedMediaType = (message: string) => new AppError('UNSUPPORTED_MEDIA_TYPE', message);
export const serviceUnavailable = (message: string, retryAfterSeconds: number) =>
  new AppError('SERVICE_UNAVAILABLE', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
/** PostgreSQL or the object store is down or restarting: the same request may succeed in a moment. */
export const dependencyUnavailable = (cause: unknown) =>
  new AppError(
    'SERVICE_UNAVAILABLE',
    'A service Stowage depends on is unavailable; please try again shortly',
    {
      cause,
      headers: { 'retry-after': '1' },
    },
  );
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
/** A JSON (or other non-file) body over the route's limit. */
export const requestBodyTooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `The request body exceeds the maximum size of ${limit} bytes`);
/** The request line and headers together are longer than the server reads (a huge URL or many headers). */
export const headersTooLarge = (limit: number) =>
  new AppError(
    'REQUEST_HEADER_FIELDS_TOO_LARGE',
    `The request line and headers exceed the maximum size of ${limit} bytes`,
  );
export const requestTimeout = () =>
  new AppError('REQUEST_TIMEOUT', 'The request headers did not arrive in time');
/** An API key id that is not one of the caller's tenant's keys (or does not exist at all). */
export const keyNotFound = () => new AppError('FILE_NOT_FOUND', 'API key not found');
/** A test-mode upload past quota.testStorage: the sandbox has a quota of its own. */
export const testQuotaExceeded = () =>
  new AppError('QUOTA_EXCEEDED', 'Test storage quota exceeded', {
    suggestion:
      'Files uploaded with test keys count against quota.testStorage until they are deleted, at the latest ' +
      'TEST_FILE_TTL (a day by default) after upload; delete some, or raise quota.testStorage',
  });
/** A webhook delivery id that is not one of the caller's tenant's (and mode's) deliveries. */
export const deliveryNotFound = () => new AppError('FILE_NOT_FOUND', 'Webhook delivery not found');
