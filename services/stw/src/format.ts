import { InvalidArgumentError } from 'commander';
import { UsageError } from './usage-error.ts';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes as a person reads them: `512 B`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration option (`600`, `10m`, `12h`, `7d`) in seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError('expected seconds or a duration such as 10m, 12h or 7d');
  return Number(match[1]) * SECONDS[(match[2] || 's') as keyof typeof SECONDS];
}

/** A `--since` option: an ISO 8601 time, or a duration before now (`30m`, `12h`, `7d`); as ISO 8601. */
export function parseSince(text: string, now = Date.now()): string {
  if (/^\d+[smhd]?$/.test(text.trim())) return new Date(now - parseDuration(text) * 1000).toISOString();
  const time = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time))
    throw new InvalidArgumentError('expected an ISO 8601 time or a duration such as 12h');
  return new Date(time).toISOString();
}

/** A count option, at least 1. */
export function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a whole number from 1');
  return value;
}

/** `bucket/key` as the commands take it. */
export function parseTarget(text: string): { bucket: string; key: string } {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) {
    throw new UsageError(`expected <bucket>/<key>, got "${text}"`);
  }
  return { bucket: text.slice(0, slash), key: text.slice(slash + 1) };
}
