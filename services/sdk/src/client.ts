import { eachBounded } from './bounded.ts';
import { abortDirectUpload, createDirectUpload, noDirectUploads, sendParts } from './direct-upload.ts';
import { StowageError } from './errors.ts';
import { outgoing, Progress, type Payload } from './payload.ts';
import { Transport } from './transport.ts';
import type {
  BatchDeleteResult,
  BatchUploadOptions,
  BatchUploadResult,
  ListOptions,
  ReplaceResult,
  SignedUrlOptions,
  StowageOptions,
  UploadOptions,
  UploadState,
  VariantUrls,
} from './types.ts';
import type {
  DeleteBucketResult,
  DeleteFileResult,
  FileDetails,
  FileInfo,
  ListFilesResult,
  SignedUrlResult,
  UploadResult,
  UsageResult,
  Variants,
} from './wire.ts';

const MiB = 1024 * 1024;
const enc = encodeURIComponent;

/** What every call may take besides its arguments. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * The client of the Stowage API. `Source` is what uploads take: the `Stowage` of `@stowage/sdk` takes
 * what any runtime has (Blob, File, bytes, web streams); that of `@stowage/sdk/node` adds paths and
 * Node streams.
 */
export abstract class StowageClient<Source> {
  private readonly transport: Transport;
  private readonly defaultBucket: string | undefined;
  private readonly multipartThreshold: number;
  private readonly partConcurrency: number;
  /** Cleared by the API's first refusal: its object store has no direct uploads. */
  private directUploads = true;
  /** Whether bodies go as streams, so progress follows their bytes (see `outgoing`). */
  protected readonly streamBodies: boolean = false;

  constructor(options: StowageOptions) {
    this.transport = new Transport(options);
    this.defaultBucket = options.bucket;
    this.multipartThreshold = options.multipartThreshold ?? 64 * MiB;
    this.partConcurrency = options.partConcurrency ?? 4;
  }

  /** The bytes of what an upload was given. */
  protected abstract payload(source: Source, options: UploadOptions): Promise<Payload>;

  /**
   * Uploads a file. Files of at least `multipartThreshold` bytes go straight to the object store in
   * parts (several in flight, each retried on its own); an interrupted one throws a `StowageError` whose
   * `uploadState` resumes it (`resume`). Where the API has no direct uploads (the embedded store) and for
   * everything smaller, the file is streamed in one request.
   */
  async uploadFile(file: Source, options: UploadOptions = {}): Promise<UploadResult> {
    const payload = await this.payload(file, options);
    if (options.resume) return this.sendParts(options.resume, payload, options);
    const bucket = this.bucketOf(options.bucket);
    const filename = options.filename ?? payload.name ?? 'file';
    const threshold = options.multipartThreshold ?? this.multipartThreshold;
    if (this.directUploads && payload.size !== undefined && payload.size >= threshold) {
      const state = await createDirectUpload(this.transport, {
        bucket,
        filename,
        size: payload.size,
        allowPublicAccess: options.allowPublicAccess,
        signal: options.signal,
      }).catch((err: unknown) => {
        if (!noDirectUploads(err)) throw err;
        this.directUploads = false;
        return undefined;
      });
      if (state) {
        options.onState?.(state);
        return this.sendParts(state, payload, options);
      }
    }
    const body = outgoing(
      payload,
      payload.size,
      new Progress(payload.size, options.onProgress),
      this.streamBodies,
    );
    const result = await this.transport.api<UploadResult>({
      method: 'PUT',
      path: `/upload/${enc(bucket)}/${enc(filename)}`,
      query: { allowPublicAccess: options.allowPublicAccess },
      body,
      signal: options.signal,
    });
    body.settle();
    return result;
  }

  private sendParts(state: UploadState, payload: Payload, options: UploadOptions) {
    const how = {
      transport: this.transport,
      streamed: this.streamBodies,
      concurrency: options.partConcurrency ?? this.partConcurrency,
      onProgress: options.onProgress,
      onState: options.onState,
      signal: options.signal,
    };
    return sendParts(how, { ...state, parts: [...state.parts] }, payload);
  }

  /** One page of a bucket's files, oldest first; `files()` walks every page. */
  listFiles(bucket?: string, options: ListOptions & CallOptions = {}): Promise<ListFilesResult> {
    return this.transport.api({
      method: 'GET',
      path: `/files/${enc(this.bucketOf(bucket))}`,
      query: { limit: options.limit, cursor: options.cursor },
      signal: options.signal,
    });
  }

  /** Every file of a bucket, oldest first, fetching page after page as the loop goes on. */
  async *files(bucket?: string, options: { limit?: number } & CallOptions = {}): AsyncGenerator<FileInfo> {
    let cursor: string | undefined;
    do {
      const page = await this.listFiles(bucket, { ...options, cursor });
      yield* page.files;
      cursor = page.hasMore && page.nextCursor !== null ? page.nextCursor : undefined;
    } while (cursor !== undefined);
  }

  /** One file's metadata, with the state of its variants. */
  getFile(key: string, bucket?: string, options: CallOptions = {}): Promise<FileDetails> {
    return this.transport.api({
      method: 'GET',
      path: `/files/${enc(this.bucketOf(bucket))}/${enc(key)}`,
      signal: options.signal,
    });
  }

  /** Deletes a file and its variants; deleting a file that is gone succeeds too. */
  removeFile(key: string, bucket?: string, options: CallOptions = {}): Promise<DeleteFileResult> {
    return this.transport.api({
      method: 'POST',
      path: '/files/delete',
      json: { bucket: this.bucketOf(bucket), key },
      signal: options.signal,
    });
  }

  /** Deletes every file of a bucket (needs a key with the `admin` scope). */
  removeBucket(bucket?: string, options: CallOptions = {}): Promise<DeleteBucketResult> {
    return this.transport.api({
      method: 'POST',
      path: '/files/delete-bucket',
      json: { bucket: this.bucketOf(bucket) },
      signal: options.signal,
    });
  }

  /**
   * Uploads `file`, then removes the file it replaces (its URL, or its key in `options.bucket`); the new
   * file goes to `options.bucket`, else to the old one's. If the removal fails, the new file stays
   * uploaded and the result says so (`replaced.removed: false`, with the error).
   */
  async replaceFile(file: Source, oldUrlOrKey: string, options: UploadOptions = {}): Promise<ReplaceResult> {
    const old = this.locate(oldUrlOrKey, options.bucket);
    const result = await this.uploadFile(file, { ...options, bucket: options.bucket ?? old.bucket });
    try {
      await this.removeFile(old.key, old.bucket, { signal: options.signal });
      return { ...result, replaced: { ...old, removed: true } };
    } catch (error) {
      if (!(error instanceof StowageError)) throw error;
      return { ...result, replaced: { ...old, removed: false, error } };
    }
  }

  /** Uploads files, `concurrency` at a time; one result per file, in their order, failures included. */
  uploadMultipleFiles(files: Source[], options: BatchUploadOptions = {}): Promise<BatchUploadResult[]> {
    const { concurrency = 4, onProgress, ...shared } = options;
    return batch<Source, BatchUploadResult>(
      files,
      concurrency,
      options.signal,
      (file, index) =>
        this.uploadFile(file, {
          ...shared,
          onProgress: onProgress && ((progress) => onProgress({ ...progress, index })),
        }),
      (_, error) => ({ success: false, error }),
    );
  }

  /** Deletes files, `concurrency` at a time; one result per key, in their order, failures included. */
  deleteMultipleFiles(
    keys: string[],
    bucket?: string,
    options: { concurrency?: number } & CallOptions = {},
  ): Promise<BatchDeleteResult[]> {
    // One request per key until the API takes many at once (POST /files/delete-many).
    const name = this.bucketOf(bucket);
    return batch<string, BatchDeleteResult>(
      keys,
      options.concurrency ?? 4,
      options.signal,
      async (key) => {
        await this.removeFile(key, name, options);
        return { key, success: true };
      },
      (key, error) => ({ key, success: false, error }),
    );
  }

  /** The tenant's quota and what is stored, in bytes. */
  getUsage(options: CallOptions = {}): Promise<UsageResult> {
    return this.transport.api({ method: 'GET', path: '/usage', signal: options.signal });
  }

  /** A URL that serves the file (and its variants) to whoever holds it, until it expires. */
  signedUrl(key: string, options: SignedUrlOptions & CallOptions = {}): Promise<SignedUrlResult> {
    return this.transport.api({
      method: 'POST',
      path: '/files/signed-url',
      json: { bucket: this.bucketOf(options.bucket), key, expiresIn: options.expiresIn },
      signal: options.signal,
    });
  }

  /**
   * The URLs of an image's variants, from an upload's answer, a listed file or a file's URL (a signed
   * URL's signature serves its variants too). No request is made.
   */
  variantUrls(fileOrUrl: string | { url: string; variants?: Variants }): VariantUrls {
    const url = typeof fileOrUrl === 'string' ? fileOrUrl : fileOrUrl.url;
    const known = typeof fileOrUrl === 'string' ? undefined : fileOrUrl.variants;
    const at = (name: keyof VariantUrls) => {
      if (known?.[name]) return known[name].url;
      const variant = new URL(url);
      variant.pathname = variant.pathname.replace(/(\.[^./]*)?$/, `-${name}.webp`);
      return variant.href;
    };
    return { large: at('large'), small: at('small'), thumb: at('thumb') };
  }

  /** Gives up an interrupted direct upload: the store drops its parts and the quota is released. */
  abortUpload(state: UploadState, options: CallOptions = {}): Promise<void> {
    return abortDirectUpload(this.transport, state, options.signal);
  }

  private bucketOf(bucket: string | undefined): string {
    const name = bucket ?? this.defaultBucket;
    if (name === undefined) throw new TypeError('Name a bucket, or give the client a default `bucket`');
    return name;
  }

  /** The bucket and key of a file's URL (`…/:tenantId/:bucket/:key`), or of a key in `bucket`. */
  private locate(urlOrKey: string, bucket: string | undefined) {
    if (!/^[a-z][a-z\d+.-]*:\/\//i.test(urlOrKey)) return { bucket: this.bucketOf(bucket), key: urlOrKey };
    const path = new URL(urlOrKey).pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (path.length < 3) throw new TypeError(`Not the URL of a file: ${urlOrKey}`);
    return { bucket: path.at(-2)!, key: path.at(-1)! };
  }
}

/**
 * Runs `run` on each item, `concurrency` at once: one result per item, in their order, a failure being
 * `fail`'s result for that item. Aborting `signal` stops the whole batch instead.
 */
async function batch<T, R>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal | undefined,
  run: (item: T, index: number) => Promise<R>,
  fail: (item: T, error: Error) => R,
): Promise<R[]> {
  const results: R[] = [];
  await eachBounded(items, concurrency, async (item, index) => {
    try {
      results[index] = await run(item, index);
    } catch (error) {
      if (signal?.aborted || !(error instanceof Error)) throw error;
      results[index] = fail(item, error);
    }
  });
  return results;
}
