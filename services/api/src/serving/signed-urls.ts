import { createHmac } from 'node:crypto';
import { hashesEqual } from '@stowage/core';

export interface SignedTarget {
  tenantId: string;
  bucket: string;
  fileId: string;
}

function signature(secret: string, target: SignedTarget, expires: number): Buffer {
  return createHmac('sha256', secret)
    .update(`stowage-signed-url/v1\n${target.tenantId}\n${target.bucket}\n${target.fileId}\n${expires}`)
    .digest();
}

/** Query parameters that let anyone holding them fetch a file (and its variants) until `expires`. */
export function signQuery(secret: string, target: SignedTarget, expires: number): string {
  return `expires=${expires}&signature=${signature(secret, target, expires).toString('base64url')}`;
}

/** `expires` as signQuery writes it: seconds since the epoch, in decimal without leading zeros. */
const EXPIRES = /^[1-9]\d{0,11}$/;

/**
 * Whether a request's `expires` and `signature` are genuine for this file and not yet expired. Only the
 * exact text signQuery wrote is accepted: a lenient base64 decoder would take many spellings of one
 * signature (padding, stray characters, unused trailing bits), so the encoded strings are compared.
 * Each parameter must appear once (a repeated one arrives as an array).
 */
export function verifySignedQuery(
  secret: string,
  target: SignedTarget,
  query: { expires?: unknown; signature?: unknown },
  now = Date.now(),
): boolean {
  const { expires, signature: given } = query;
  if (typeof expires !== 'string' || !EXPIRES.test(expires) || typeof given !== 'string') return false;
  if (Number(expires) * 1000 <= now) return false;
  const expected = signature(secret, target, Number(expires)).toString('base64url');
  return hashesEqual(Buffer.from(given), Buffer.from(expected));
}
