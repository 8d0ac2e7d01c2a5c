import type { StowageError } from './errors.ts';
import type { ListFilesQuery, UploadResult } from './wire.ts';

/**
 * What an upload takes in any runtime: a Blob or File, bytes (a Node Buffer is a Uint8Array), or a web
 * stream, which is read once (give its `size` to have it uploaded in parts when large).
 */
export type UploadSource = Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;

/** How failed requests are sent again; see `retryDelayMs` for which ones are. */
export interface RetryOptions {
  /** Tries after the first one (default 3; 0 turns retrying off). */
  retries?: number;
  /** The first backoff step, doubled on each retry; the wait is a random part of it (default 300 ms). */
  baseDelayMs?: number;
  /** The largest backoff step (default 10 s). */
  maxDelayMs?: number;
  /** The longest `Retry-After` the client waits for; a longer one fails the call at once (default 60 s). */
  maxRetryAfterMs?: number;
}

export interface StowageOptions {
  /** Where the API is, e.g. `https://files.example.com`. */
  baseUrl: string;
  apiKey: string;
  /** The bucket of calls that name none. */
  bucket?: string;
  /**
   * Sent as `Origin`, for keys that only allow some origins, when calling from a server. Browsers send
   * their own and ignore this.
   */
  origin?: string;
  retry?: RetryOptions;
  /** The `fetch` to send every request with, presigned part uploads included (default: the global one). */
  fetch?: typeof fetch;
  /** Files of at least this many bytes go straight to the object store in parts (default 64 MiB). */
  multipartThreshold?: number;
  /** Parts of one direct upload in flight at once (default 4). */
  partConcurrency?: number;
}

/** How far an upload has come. `total` is unknown for a stream of unstated size. */
export interface UploadProgress {
  loaded: number;
  total: number | undefined;
}

/**
 * Where a direct upload stands: enough to continue it later, in this process or another (it is plain
 * JSON). Parts listed here are stored and are not sent again.
 */
export interface UploadState {
  uploadId: string;
  bucket: string;
  /** The key the file will have. */
  key: string;
  size: number;
  partSize: number;
  partCount: number;
  /** After this the upload is abandoned (the API's sweeper aborts it). */
  expiresAt: string;
  /** The parts stored so far, with the ETags the store gave them. */
  parts: { partNumber: number; etag: string }[];
}

export interface UploadOptions {
  /** Default: the client's bucket. */
  bucket?: string;
  /** Default: public, unless the bucket is declared private. */
  allowPublicAccess?: boolean;
  /**
   * Seconds until the file is deleted (1 to 999 999 999). Its bucket's `expireAfter`, and for a test key
   * the sandbox's lifetime, may end it sooner: the file's `expiresAt` says when. Default: kept.
   */
  expiresIn?: number;
  /** The file's name, kept as metadata. Default: the File's or path's name, else `file`. */
  filename?: string;
  /** The bytes a stream will give: lets it go as a direct upload and gives progress a total. */
  size?: number;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** Overrides the client's `multipartThreshold` for this upload. */
  multipartThreshold?: number;
  /** Overrides the client's `partConcurrency` for this upload. */
  partConcurrency?: number;
  /**
   * Continues the direct upload this state describes instead of starting one. Pass the same file again,
   * whole: the stored parts are skipped (a stream is read past them), the others sent.
   */
  resume?: UploadState;
  /** Called with the new state each time a part of a direct upload is stored, e.g. to save it. */
  onState?: (state: UploadState) => void;
}

/**
 * Which files a listing shows and which page: `limit` (1 to 1000, default 100), `cursor` (the
 * `nextCursor` of the previous page), `order` (`asc`, oldest first, or `desc`), and the filters `type`,
 * `tag`, `search` and `modifiedAfter`, which a page after the first must repeat with its cursor.
 */
export type ListOptions = ListFilesQuery;

export interface SignedUrlOptions {
  bucket?: string;
  /** Seconds the URL stays valid, 1 to 7 days (default 3600). */
  expiresIn?: number;
}

export interface BatchUploadOptions extends Omit<
  UploadOptions,
  'filename' | 'size' | 'onProgress' | 'resume' | 'onState'
> {
  /** Files uploaded at once (default 4). */
  concurrency?: number;
  /** Progress of each file, by its index in the list. */
  onProgress?: (progress: UploadProgress & { index: number }) => void;
}

/**
 * One file of a batch: its upload's answer, or why it failed (a StowageError, or the file's own error,
 * e.g. a path that cannot be read). Results keep the order of the files.
 */
export type BatchUploadResult = UploadResult | { success: false; error: Error };

/** One key of a batch delete. Results keep the order of the keys. */
export type BatchDeleteResult =
  { key: string; success: true } | { key: string; success: false; error: Error };

/** A replacement: the new file's upload, and what became of the file it replaces. */
export type ReplaceResult = UploadResult & {
  replaced:
    | { bucket: string; key: string; removed: true }
    /** The new file is stored, but the old one is still there: remove it again with `removeFile`. */
    | { bucket: string; key: string; removed: false; error: StowageError };
};

/** The URLs of an image's variants (they exist once the worker has made them). */
export interface VariantUrls {
  large: string;
  small: string;
  thumb: string;
}

export interface DownloadOptions {
  /** The bucket of a key (default: the client's). */
  bucket?: string;
  signal?: AbortSignal;
  /** How many bytes of the body were read; `total` is unknown when the server does not say. */
  onProgress?: (progress: UploadProgress) => void;
}

/** A download under way. */
export interface Download {
  /** The file's bytes, as they come. */
  body: ReadableStream<Uint8Array>;
  /** From `Content-Length`, when the server sent it. */
  size: number | undefined;
  /** The last part of the file's URL (its key, or a variant's name): a name to save it under. */
  name: string;
}
