import { Transform, type Readable } from 'node:stream';

/** Thrown by `get` when the object does not exist. */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {
    super(`object ${bucket}/${key} not found`);
  }
}

export interface PutObjectOptions {
  bucket: string;
  key: string;
  /** Streamed, never buffered whole. */
  body: Readable;
  contentType: string;
  /**
   * The body's exact length, when the caller knows it (a request with Content-Length). S3 then takes the
   * object in one streamed request instead of a multipart upload, which is about twice as fast. A body
   * of any other length fails the put.
   */
  size?: number | undefined;
  /** Aborting removes everything written so far (for S3: aborts the multipart upload). */
  signal?: AbortSignal;
}

/** Passes a stream through, failing it if it turns out longer or shorter than `size` bytes. */
export function exactLength(size: number): Transform {
  let seen = 0;
  const mismatch = () => new Error(`the body is not the ${size} bytes declared`);
  return new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > size ? mismatch() : null, chunk);
    },
    flush(callback) {
      callback(seen === size ? null : mismatch());
    },
  });
}

export interface GetObjectOptions {
  bucket: string;
  key: string;
  /** Inclusive byte range, already validated against the object's size. */
  range?: { start: number; end: number };
  signal?: AbortSignal;
}

/** A URL that GETs one object straight from the store, with the response headers the API would send. */
export interface PresignGetOptions {
  bucket: string;
  key: string;
  expiresInSeconds: number;
  contentType: string;
  cacheControl: string;
}

export interface StoredObject {
  body: Readable;
  /** The whole object's size. */
  size: number;
  contentType: string;
}

export interface ObjectHead {
  size: number;
  contentType: string;
}

/** One object of a listing. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * Orders object keys as S3 lists them: by the bytes of their UTF-8 encoding (PostgreSQL's `COLLATE "C"`).
 * JavaScript's `<` compares UTF-16 code units, which differs for characters beyond U+FFFF.
 */
export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export interface AbortStaleUploadsOptions {
  bucket: string;
  /** Only writes started (for files: last written) before this. */
  olderThan: Date;
  /** Only writes of this key. */
  key?: string;
  signal?: AbortSignal;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** One multipart upload in the store. */
export interface MultipartTarget {
  bucket: string;
  key: string;
  uploadId: string;
}

/**
 * Multipart uploads that clients send straight to the store with presigned part URLs, so the largest
 * files never pass through the API. Only S3 stores offer it.
 */
export interface DirectUploads {
  create(options: { bucket: string; key: string; contentType: string }): Promise<string>;
  /** A URL the client PUTs one part of exactly `size` bytes to, valid for `expiresInSeconds`. */
  presignPart(
    options: MultipartTarget & { partNumber: number; size: number; expiresInSeconds: number },
  ): Promise<string>;
  /** The parts the store actually holds, in part order. */
  listParts(options: MultipartTarget): Promise<UploadedPart[]>;
  complete(options: MultipartTarget & { parts: UploadedPart[] }): Promise<void>;
  /** Idempotent: aborting an upload that is gone succeeds. */
  abort(options: MultipartTarget): Promise<void>;
}

/**
 * Where file bytes live. One store bucket per tenant; logical buckets are key prefixes inside it.
 * Implementations: S3 (any S3-compatible server) and the local filesystem. Both pass one contract suite.
 */
export interface ObjectStore {
  /** Present when clients can upload straight to the store (S3), absent otherwise. */
  readonly direct?: DirectUploads;
  /** Creates the bucket if it does not exist; idempotent. */
  ensureBucket(
    bucket: string,
    options?: { tags?: Record<string, string>; signal?: AbortSignal },
  ): Promise<void>;
  /** Removes the bucket and everything in it; idempotent. */
  removeBucket(bucket: string, options?: { signal?: AbortSignal }): Promise<void>;
  bucketExists(bucket: string, options?: { signal?: AbortSignal }): Promise<boolean>;
  /** Streams `body` into the object; resolves to the bytes written. On failure or abort, nothing remains. */
  put(options: PutObjectOptions): Promise<{ size: number }>;
  /** Throws ObjectNotFoundError when the object does not exist. */
  get(options: GetObjectOptions): Promise<StoredObject>;
  /** Present when clients can download straight from the store (S3), absent otherwise. */
  presignGet?(options: PresignGetOptions): Promise<string>;
  /** undefined when the object does not exist. */
  head(options: { bucket: string; key: string; signal?: AbortSignal }): Promise<ObjectHead | undefined>;
  /** Deletes the keys that exist; missing keys are not an error. */
  delete(options: { bucket: string; keys: string[]; signal?: AbortSignal }): Promise<void>;
  /**
   * Every object whose key starts with `prefix` (all when omitted), in `compareKeys` order, read a page at
   * a time: a bucket of millions of objects is never held in memory. Unfinished writes are not listed.
   */
  list(options: { bucket: string; prefix?: string; signal?: AbortSignal }): AsyncIterable<ListedObject>;
  /** Deletes every object whose key starts with `prefix`; resolves to how many were deleted. */
  deletePrefix(options: { bucket: string; prefix: string; signal?: AbortSignal }): Promise<number>;
  /**
   * Removes unfinished writes (S3 multipart uploads, partial files) started before `olderThan`, left by a
   * crashed process; only those of `key` when it is given. Resolves to how many were removed.
   */
  abortStaleUploads(options: AbortStaleUploadsOptions): Promise<number>;
}

/** Removes what a writer that died left of `key`: the object, if it got that far, and any unfinished write. */
export async function discardWrite(store: ObjectStore, bucket: string, key: string): Promise<void> {
  await store.delete({ bucket, keys: [key] });
  await store.abortStaleUploads({ bucket, key, olderThan: new Date() });
}
