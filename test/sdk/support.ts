import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { getUsage } from '@stowage/core';
import { StowageError } from '@stowage/sdk';
import type { ApiStack, TestTenant } from '../support/api-stack.ts';

export const MiB = 1024 * 1024;

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** One request the SDK sent, as its `fetch` saw it. */
export interface Sent {
  method: string;
  url: URL;
  status: number | 'failed';
}

/**
 * A `fetch` that records every request it passes on (to count what the SDK sends), optionally failing
 * some itself first as a dropped connection would (`failFirst` says which, and how often).
 */
export function recordingFetch(options: { failFirst?: (sent: Omit<Sent, 'status'>) => boolean } = {}) {
  const sent: Sent[] = [];
  const fetchThrough: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    if (options.failFirst?.({ method, url })) {
      sent.push({ method, url, status: 'failed' });
      // What undici throws when the connection drops.
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    }
    const res = await fetch(input, init);
    sent.push({ method, url, status: res.status });
    return res;
  };
  return { fetch: fetchThrough, sent };
}

/** The bytes a file's URL serves, read with the tenant's key. */
export async function served(url: string, key?: string): Promise<Buffer> {
  const res = await fetch(url, { headers: key ? { 'x-api-key': key } : {} });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

/**
 * The stack's URL for a file the API named with its public URL (`http://files.test/...`), which the
 * test stacks answer on their own address.
 */
export const onStack = (stack: ApiStack, url: string) => {
  const u = new URL(url);
  return `${stack.url}${u.pathname}${u.search}`;
};

/** What a tenant holds: its stored objects (unfinished writes included), used and reserved bytes, files. */
export async function holdings(stack: ApiStack, tenant: TestTenant) {
  const usage = (await getUsage(stack.db.pool, tenant.id))!;
  return {
    objects: await stack.storedObjects(tenant.storageBucket),
    used: usage.usedBytes,
    reserved: usage.reservedBytes,
    files: usage.fileCount,
  };
}

/** The StowageError a call fails with, checked for its code and status. */
export async function rejectsWith(promise: Promise<unknown>, code: string, status: number) {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (err: unknown) => err,
  );
  assert.ok(error instanceof StowageError, String(error));
  assert.equal(error.code, code, error.message);
  assert.equal(error.status, status);
  return error;
}
