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

/** Whether a request's `expires` and `signature` are genuine for this file and not yet expired. */
export function verifySignedQuery(
  secret: string,
  target: SignedTarget,
  query: { expires?: unknown; signature?: unknown },
  now = Date.now(),
): boolean {
  const { expires, signature: given } = query;
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof given !== 'string') return false;
  if (Number(expires) * 1000 <= now) return false;
  return hashesEqual(Buffer.from(given, 'base64url'), signature(secret, target, Number(expires)));
}
