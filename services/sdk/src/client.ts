import { eachBounded } from './bounded.ts';
import { abortDirectUpload, createDirectUpload, noDirectUploads, sendParts } from './direct-upload.ts';
import { StowageError } from './errors.ts';
import { outgoing, Progress, type Payload } from './payload.ts';
import { Transport } from './transport.ts';
import type {
  BatchDeleteResult,
  BatchUploadOptions,
  BatchUploadResult,
  Download,
  DownloadOptions,
  ListOptions,
  ReplaceResult,
  SignedUrlOptions,
  StowageOptions,
  UploadOptions,
  UploadState,
  VariantUrls,
} from './types.ts';
import type {
  AuditEntry,
  CreateKeyResult,
  DeleteBucketResult,
  DeleteFileResult,
  DeleteFilesResult,
  FileChanges,
  FileDetails,
  FileInfo,
  ListAuditQuery,
  ListAuditResult,
  ListFilesResult,
  ListKeysResult,
  ListWebhookDeliveriesQuery,
  ListWebhookDeliveriesResult,
  NewKey,
  RetryWebhookDeliveryResult,
  RevokeKeyResult,
  SignedUrlResult,
  TenantResult,
  UpdateFileResult,
  UploadResult,
  UsageResult,
  Variants,
} from './wire.ts';

const MiB = 1024 * 1024;
/** The most keys POST /files/delete-many takes at once. */
const DELETE_BATCH = 1000;
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
    const large = payload.size !== undefined && payload.size >= threshold;
    const state = large ? await this.startDirectUpload(bucket, filename, payload.size!, options) : undefined;
    return state
      ? this.sendParts(state, payload, options)
      : this.putWhole(bucket, filename, payload, options);
  }

  /** A new direct upload, or undefined where the API's store has none. */
  private async startDirectUpload(bucket: string, filename: string, size: number, options: UploadOptions) {
    if (!this.directUploads) return undefined;
    const { allowPublicAccess, expiresIn, signal } = options;
    try {
      const state = await createDirectUpload(this.transport, {
        bucket,
        filename,
        size,
        allowPublicAccess,
        expiresIn,
        signal,
      });
      options.onState?.(state);
      return state;
    } catch (err) {
      if (!noDirectUploads(err)) throw err;
      this.directUploads = false;
      return undefined;
    }
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

  /** Uploads a file in one request, its body streamed through the API to the store. */
  private async putWhole(bucket: string, filename: string, payload: Payload, options: UploadOptions) {
    const progress = new Progress(payload.size, options.onProgress);
    const body = outgoing(payload, payload.size, progress, this.streamBodies);
    const result = await this.transport.api<UploadResult>({
      method: 'PUT',
      path: `/upload/${enc(bucket)}/${enc(filename)}`,
      query: { allowPublicAccess: options.allowPublicAccess, expiresIn: options.expiresIn },
      body,
      signal: options.signal,
    });
    body.settle();
    return result;
  }

  /**
   * One page of a bucket's files, oldest first unless `order` is `desc`, only those that match the
   * filters given; `files()` walks every page.
   */
  listFiles(bucket?: string, options: ListOptions & CallOptions = {}): Promise<ListFilesResult> {
    const { signal, ...query } = options;
    return this.transport.api({
      method: 'GET',
      path: `/files/${enc(this.bucketOf(bucket))}`,
      query,
      signal,
    });
  }

  /**
   * Every file of a bucket that matches the filters, in their order, fetching page after page (each with
   * the same filters and order) as the loop goes on.
   */
  async *files(
    bucket?: string,
    options: Omit<ListOptions, 'cursor'> & CallOptions = {},
  ): AsyncGenerator<FileInfo> {
    yield* everyPage(
      (cursor) => this.listFiles(bucket, { ...options, cursor }),
      (page) => page.files,
    );
  }

  /** One file's metadata, with the state of its variants. */
  getFile(key: string, bucket?: string, options: CallOptions = {}): Promise<FileDetails> {
    return this.transport.api({
      method: 'GET',
      path: `/files/${enc(this.bucketOf(bucket))}/${enc(key)}`,
      signal: options.signal,
    });
  }

  /**
   * Changes a file's original name, tags, metadata or visibility: only the fields given; `tags` and
   * `metadata` replace the whole set (`[]` and `{}` clear them). Answers the file as it is now.
   */
  updateFile(
    key: string,
    changes: FileChanges,
    bucket?: string,
    options: CallOptions = {},
  ): Promise<UpdateFileResult> {
    return this.transport.api({
      method: 'PATCH',
      path: `/files/${enc(this.bucketOf(bucket))}/${enc(key)}`,
      json: changes,
      signal: options.signal,
    });
  }

  /**
   * Starts downloading a file: a key (of `options.bucket`), through a short-lived signed URL, or a URL as
   * it is; the API key goes only to the API's own origin. Answers the bytes as they come, with their
   * count when the server gives it; `onProgress` follows them as the body is read.
   */
  async download(keyOrUrl: string, options: DownloadOptions = {}): Promise<Download> {
    const { signal, onProgress } = options;
    const url = isUrl(keyOrUrl)
      ? new URL(keyOrUrl)
      : new URL((await this.signedUrl(keyOrUrl, { bucket: options.bucket, expiresIn: 300, signal })).url);
    const res = await this.transport.getFile(url, signal);
    if (!res.body)
      throw new StowageError({ code: 'UNEXPECTED_RESPONSE', status: res.status, message: 'No body' });
    const length = res.headers.get('content-length');
    const size = length === null ? undefined : Number(length);
    const progress = onProgress && new Progress(size, onProgress);
    const counted = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        progress?.add(chunk.byteLength);
        controller.enqueue(chunk);
      },
    });
    const name = decodeURIComponent(url.pathname.split('/').at(-1) ?? '');
    return { body: res.body.pipeThrough(counted), size, name };
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

  /**
   * Deletes files of a bucket, up to 1000 in each request; one result per key, in their order. A key
   * fails alone when the API refuses it (a malformed key), or with the rest of its request when that
   * request fails; files already gone count as deleted.
   */
  async deleteMultipleFiles(
    keys: string[],
    bucket?: string,
    options: CallOptions = {},
  ): Promise<BatchDeleteResult[]> {
    const name = this.bucketOf(bucket);
    const results: BatchDeleteResult[] = [];
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const some = keys.slice(start, start + DELETE_BATCH);
      results.push(...(await this.deleteBatch(name, some, options.signal)));
    }
    return results;
  }

  private async deleteBatch(bucket: string, keys: string[], signal: AbortSignal | undefined) {
    let answer: DeleteFilesResult;
    try {
      answer = await this.transport.api({
        method: 'POST',
        path: '/files/delete-many',
        json: { bucket, keys },
        signal,
      });
    } catch (error) {
      if (signal?.aborted || !(error instanceof StowageError)) throw error;
      return keys.map((key): BatchDeleteResult => ({ key, success: false, error }));
    }
    const failed = new Map(answer.failed.map((f) => [f.key, f]));
    return keys.map((key): BatchDeleteResult => {
      const failure = failed.get(key);
      if (!failure) return { key, success: true };
      // The API fails a key alone only for what it refuses in it: the 400 the key would get on its own.
      const error = new StowageError({ code: failure.code, status: 400, message: failure.message });
      return { key, success: false, error };
    });
  }

  /** The tenant's quota and what is stored, in bytes. */
  getUsage(options: CallOptions = {}): Promise<UsageResult> {
    return this.transport.api({ method: 'GET', path: '/usage', signal: options.signal });
  }

  /** The calling key's tenant: its quota, rate limits, allowed origins and declared buckets. */
  getTenant(options: CallOptions = {}): Promise<TenantResult> {
    return this.transport.api({ method: 'GET', path: '/tenant', signal: options.signal });
  }

  /** The tenant's API keys, oldest first, without their secrets; revoked keys are not listed. */
  listKeys(options: CallOptions = {}): Promise<ListKeysResult> {
    return this.transport.api({ method: 'GET', path: '/keys', signal: options.signal });
  }

  /**
   * Mints a key (needs a key with the `admin` scope, and gives no scope the caller lacks). Its secret,
   * `apiKey`, is in this answer only.
   */
  createKey(key: NewKey, options: CallOptions = {}): Promise<CreateKeyResult> {
    return this.transport.api({ method: 'POST', path: '/keys', json: key, signal: options.signal });
  }

  /** Revokes a key minted through the API (those declared in the StorageTenant are the cluster's). */
  revokeKey(id: string, options: CallOptions = {}): Promise<RevokeKeyResult> {
    return this.transport.api({ method: 'DELETE', path: `/keys/${enc(id)}`, signal: options.signal });
  }

  /**
   * One page of the tenant's audit log, newest first (needs the `admin` scope); only what keys of the
   * calling key's mode did. `audit()` walks every page.
   */
  listAudit(options: ListAuditQuery & CallOptions = {}): Promise<ListAuditResult> {
    const { signal, ...query } = options;
    return this.transport.api({ method: 'GET', path: '/audit', query, signal });
  }

  /** Every audit entry that matches the filters, newest first, fetching page after page as the loop goes on. */
  async *audit(options: Omit<ListAuditQuery, 'cursor'> & CallOptions = {}): AsyncGenerator<AuditEntry> {
    yield* everyPage(
      (cursor) => this.listAudit({ ...options, cursor }),
      (page) => page.entries,
    );
  }

  /**
   * A page of the tenant's webhook deliveries (of the key's mode), newest first, each with its attempts;
   * needs the `admin` scope. Pass `nextCursor` back as `cursor` for the next page.
   */
  listWebhookDeliveries(
    options: ListWebhookDeliveriesQuery & CallOptions = {},
  ): Promise<ListWebhookDeliveriesResult> {
    const { signal, ...query } = options;
    return this.transport.api({ method: 'GET', path: '/webhooks/deliveries', query, signal });
  }

  /** Sends a webhook delivery once more, whatever became of it; needs the `admin` scope. */
  retryWebhookDelivery(id: string, options: CallOptions = {}): Promise<RetryWebhookDeliveryResult> {
    return this.transport.api({
      method: 'POST',
      path: `/webhooks/deliveries/${enc(id)}/retry`,
      signal: options.signal,
    });
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
    if (!isUrl(urlOrKey)) return { bucket: this.bucketOf(bucket), key: urlOrKey };
    const path = new URL(urlOrKey).pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (path.length < 3) throw new TypeError(`Not the URL of a file: ${urlOrKey}`);
    return { bucket: path.at(-2)!, key: path.at(-1)! };
  }
}

/** The items of a listing, fetching page after page by cursor as the loop goes on. */
async function* everyPage<P extends { hasMore: boolean; nextCursor: string | null }, T>(
  fetchPage: (cursor: string | undefined) => Promise<P>,
  itemsOf: (page: P) => T[],
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* itemsOf(page);
    cursor = page.hasMore && page.nextCursor !== null ? page.nextCursor : undefined;
  } while (cursor !== undefined);
}

const isUrl = (keyOrUrl: string) => /^[a-z][a-z\d+.-]*:\/\//i.test(keyOrUrl);

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
