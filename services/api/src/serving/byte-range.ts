import parseRange from 'range-parser';
import { rangeNotSatisfiable } from '@stowage/core';

/** Inclusive byte positions. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one byte range to send of an object of `size` bytes whose ETag is `etag`, or undefined for the
 * whole object; 416 RANGE_NOT_SATISFIABLE when no requested range lies within it.
 */
export function byteRange(
  headers: { range?: string | undefined; ifRange?: string | undefined },
  size: number,
  etag: string,
): ByteRange | undefined {
  const { range, ifRange } = headers;
  if (range === undefined) return undefined;
  // If-Range names the version the client holds part of; any other version is sent whole.
  if (ifRange !== undefined && ifRange !== etag) return undefined;
  const ranges = parseRange(size, range, { combine: true });
  if (ranges === -1) throw rangeNotSatisfiable(size);
  // Malformed, not in bytes, or several ranges still apart: the whole object is a valid answer.
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  return ranges[0];
}
