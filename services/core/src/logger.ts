import { pino, type Logger } from 'pino';

export type { Logger };

/** Header and field paths that may carry secrets; pino replaces their values before anything is written. */
const REDACT = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  'rawKey',
  '*.apiKey',
  '*.rawKey',
];

/** JSON logs on stdout. Secrets are redacted by path; code must still never log a raw key. */
export function createLogger(options: { level?: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: options.name },
  });
}
