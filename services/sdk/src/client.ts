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
  constructor(options: StowageOptions) {
    void options;
  }

  /**
   * Uploads a file. Files of at least `multipartThreshold` bytes go straight to the object store in
   * parts (several in flight, each retried on its own); an interrupted one throws a `StowageError` whose
   * `uploadState` resumes it (`resume`). Where the API has no direct uploads (the embedded store) and for
   * everything smaller, the file is streamed in one request.
   */
  uploadFile(file: Source, options?: UploadOptions): Promise<UploadResult> {
    throw new Error(`not implemented yet: ${String(file)} ${String(options)}`);
  }

  /** One page of a bucket's files, oldest first; `files()` walks every page. */
  listFiles(bucket?: string, options?: ListOptions & CallOptions): Promise<ListFilesResult> {
    throw new Error(`not implemented yet: ${bucket} ${String(options)}`);
  }

  /** Every file of a bucket, oldest first, fetching page after page as the loop goes on. */
  files(bucket?: string, options?: { limit?: number } & CallOptions): AsyncGenerator<FileInfo> {
    throw new Error(`not implemented yet: ${bucket} ${String(options)}`);
  }

  /** One file's metadata, with the state of its variants. */
  getFile(key: string, bucket?: string, options?: CallOptions): Promise<FileDetails> {
    throw new Error(`not implemented yet: ${key} ${bucket} ${String(options)}`);
  }

  /** Deletes a file and its variants; deleting a file that is gone succeeds too. */
  removeFile(key: string, bucket?: string, options?: CallOptions): Promise<DeleteFileResult> {
    throw new Error(`not implemented yet: ${key} ${bucket} ${String(options)}`);
  }

  /** Deletes every file of a bucket (needs a key with the `admin` scope). */
  removeBucket(bucket?: string, options?: CallOptions): Promise<DeleteBucketResult> {
    throw new Error(`not implemented yet: ${bucket} ${String(options)}`);
  }

  /**
   * Uploads `file`, then removes the file it replaces (its URL, or its key in `options.bucket`). If the
   * removal fails, the new file stays uploaded and the result says so (`replaced.removed: false`).
   */
  replaceFile(file: Source, oldUrlOrKey: string, options?: UploadOptions): Promise<ReplaceResult> {
    throw new Error(`not implemented yet: ${String(file)} ${oldUrlOrKey} ${String(options)}`);
  }

  /** Uploads files, `concurrency` at a time; one result per file, in their order, failures included. */
  uploadMultipleFiles(files: Source[], options?: BatchUploadOptions): Promise<BatchUploadResult[]> {
    throw new Error(`not implemented yet: ${files.length} ${String(options)}`);
  }

  /** Deletes files, `concurrency` at a time; one result per key, in their order, failures included. */
  deleteMultipleFiles(
    keys: string[],
    bucket?: string,
    options?: { concurrency?: number } & CallOptions,
  ): Promise<BatchDeleteResult[]> {
    throw new Error(`not implemented yet: ${keys.length} ${bucket} ${String(options)}`);
  }

  /** The tenant's quota and what is stored, in bytes. */
  getUsage(options?: CallOptions): Promise<UsageResult> {
    throw new Error(`not implemented yet: ${String(options)}`);
  }

  /** A URL that serves the file (and its variants) to whoever holds it, until it expires. */
  signedUrl(key: string, options?: SignedUrlOptions & CallOptions): Promise<SignedUrlResult> {
    throw new Error(`not implemented yet: ${key} ${String(options)}`);
  }

  /**
   * The URLs of an image's variants, from an upload's answer, a listed file or a file's URL (a signed
   * URL's signature serves its variants too). No request is made.
   */
  variantUrls(fileOrUrl: string | { url: string; variants?: Variants }): VariantUrls {
    throw new Error(`not implemented yet: ${String(fileOrUrl)}`);
  }

  /** Gives up an interrupted direct upload: the store drops its parts and the quota is released. */
  abortUpload(state: UploadState, options?: CallOptions): Promise<void> {
    throw new Error(`not implemented yet: ${state.uploadId} ${String(options)}`);
  }
}
