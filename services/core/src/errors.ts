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

/** An error meant for the client: its code, status and message are sent as they are. */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = errorStatus[code];
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (message: string, cause?: unknown) =>
  new AppError('BAD_REQUEST', message, { cause });
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
