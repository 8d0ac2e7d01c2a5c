import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  badRequest,
  payloadTooLarge,
  objectKeyOf,
  unsupportedMediaType,
  type BucketSettings,
} from '@stowage/core';
import { maxFileBytes, type Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';
import { QuotaGuard } from './quota-guard.ts';
import type { StoredFile } from './record-file.ts';
import { sniffType, SNIFF_BYTES, typeAllowed } from './sniff.ts';
import { UploadMeter } from './upload-meter.ts';

/** An upload whose bytes are stored and whose quota is reserved, waiting for its name and access. */
export interface StoredUpload extends Omit<StoredFile, 'originalName' | 'allowPublicAccess' | 'expiresIn'> {
  objectKey: string;
  quota: QuotaGuard;
}

/** Reads up to `n` bytes from the front of `chunks`; `done` when the source had no more. */
async function readHead(chunks: AsyncIterator<Buffer>, n: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const next = await chunks.next();
    if (next.done) return { head: Buffer.concat(parts), done: true };
    parts.push(next.value);
    size += next.value.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

async function* headThenRest(
  head: Buffer,
  rest: AsyncIterator<Buffer>,
  done: boolean,
): AsyncGenerator<Buffer> {
  try {
    yield head;
    if (done) return;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

export interface UploadSource {
  body: Readable;
  /** The client's file name: metadata, and what tells a script from plain text (see sniffType). */
  name: string;
  /** How many bytes the request says are coming, if it says: a reservation hint, never a limit. */
  expectedBytes: number;
  /** How many it says are coming at most, if it says (the whole form around a file): reserved if they fit. */
  upToBytes?: number | undefined;
  /** The body's exact length, when the request fixes it (Content-Length of a raw body). */
  exactBytes?: number | undefined;
}

/**
 * Streams an upload into the tenant's store bucket as `<bucket>/<uuid>.<ext>`, with the type read from
 * its first bytes, the size limit and the quota enforced on the stream, and nothing left behind if
 * anything fails (the store removes partial writes; the reservation is released).
 */
export async function storeUpload(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics'>,
  caller: Caller,
  bucket: string,
  settings: BucketSettings,
  { body: source, name, expectedBytes, upToBytes = 0, exactBytes }: UploadSource,
  signal: AbortSignal,
): Promise<StoredUpload> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const { head, done } = await readHead(chunks, SNIFF_BYTES).catch(async (err: unknown) => {
    await chunks.return?.();
    throw err;
  });
  if (head.length === 0) throw badRequest('The file is empty');
  const type = await sniffType(head, name);
  if (!typeAllowed(type.mimetype, settings.allowedTypes)) {
    await chunks.return?.();
    throw unsupportedMediaType(`Bucket ${bucket} does not accept ${type.mimetype}`);
  }
  const id = randomUUID();
  const key = `${id}.${type.ext}`;
  const objectKey = objectKeyOf(bucket, key);
  const maxBytes = maxFileBytes(caller, deps.config.maxFileSizeLimit);
  if (expectedBytes > maxBytes) {
    await chunks.return?.();
    throw payloadTooLarge(maxBytes);
  }
  const quota = await QuotaGuard.open(deps.pool, deps.metrics, {
    tenantId: caller.tenantId,
    mode: caller.mode,
    objectKey,
    expectedBytes: Math.max(expectedBytes, head.length),
    upToBytes,
    ttlMs: deps.config.reservationTtlMs,
  }).catch(async (err: unknown) => {
    await chunks.return?.();
    throw err;
  });
  const meter = new UploadMeter(maxBytes, quota);
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  try {
    await Promise.all([
      pipeline(headThenRest(head, chunks, done), meter, body, { signal }),
      deps.store.put({
        bucket: caller.tenant.storageBucket,
        key: objectKey,
        body,
        contentType: type.mimetype,
        size: exactBytes,
        signal,
      }),
    ]);
  } catch (err) {
    body.destroy();
    await quota.release();
    throw err;
  }
  return {
    id,
    tenantId: caller.tenantId,
    mode: caller.mode,
    bucket,
    key,
    objectKey,
    size: meter.bytes,
    mimetype: type.mimetype,
    quota,
  };
}

/** Undoes a stored upload that will not be recorded. */
export async function discardUpload(
  deps: Pick<ApiDeps, 'store'>,
  caller: Caller,
  upload: StoredUpload,
): Promise<void> {
  await upload.quota.release();
  await deps.store.delete({ bucket: caller.tenant.storageBucket, keys: [upload.objectKey] });
}
