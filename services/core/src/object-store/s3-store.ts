import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type MultipartUpload,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../config.ts';
import { createS3Client } from './s3-client.ts';
import { S3DirectUploads } from './s3-direct-uploads.ts';
import { S3PartWriter } from './s3-part-writer.ts';
import {
  ObjectNotFoundError,
  type AbortStaleUploadsOptions,
  type GetObjectOptions,
  type ObjectHead,
  type ObjectStore,
  type PresignGetOptions,
  type PutObjectOptions,
  type StoredObject,
  exactLength,
} from './object-store.ts';

// The largest object S3 takes in one PutObject.
const SINGLE_PUT_LIMIT = 5 * 1024 ** 3;
// DeleteObjects takes at most this many keys per request.
const DELETE_BATCH = 1000;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const END_OF_TIME = new Date(8.64e15);

/** An ObjectStore on AWS S3 or any S3-compatible server (MinIO, Ceph RGW, SeaweedFS). */
export class S3ObjectStore implements ObjectStore {
  readonly direct: S3DirectUploads;

  /** @param presignClient signs the URLs clients upload parts to and download from; defaults to `client`. */
  constructor(
    private readonly client: S3Client,
    private readonly presignClient: S3Client = client,
  ) {
    this.direct = new S3DirectUploads(client, presignClient);
  }

  /** The store for a configuration: URLs for clients are signed for S3_PUBLIC_ENDPOINT when it is set. */
  static fromConfig(config: S3Config, client = createS3Client(config)): S3ObjectStore {
    const { publicEndpoint } = config;
    return new S3ObjectStore(
      client,
      publicEndpoint ? createS3Client({ ...config, endpoint: publicEndpoint }) : client,
    );
  }

  async ensureBucket(bucket: string, options: { tags?: Record<string, string>; signal?: AbortSignal } = {}) {
    const { tags, signal } = options;
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (error) {
      if (!hasName(error, 'BucketAlreadyOwnedByYou')) throw error;
    }
    if (tags) {
      const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      await this.client.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet } }), {
        abortSignal: signal,
      });
    }
  }

  async removeBucket(bucket: string, options: { signal?: AbortSignal } = {}) {
    try {
      // Uploads first: one that completes meanwhile still has its object deleted by the next step.
      await this.abortStaleUploads({ bucket, olderThan: END_OF_TIME, signal: options.signal });
      await this.deletePrefix({ bucket, prefix: '', signal: options.signal });
      await this.client.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal: options.signal });
    } catch (error) {
      if (!hasName(error, 'NoSuchBucket')) throw error;
    }
  }

  async bucketExists(bucket: string, options: { signal?: AbortSignal } = {}) {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: options.signal });
      return true;
    } catch (error) {
      if (hasName(error, 'NotFound', 'NoSuchBucket')) return false;
      throw error;
    }
  }

  async put(options: PutObjectOptions) {
    const { size } = options;
    return size !== undefined && size <= SINGLE_PUT_LIMIT
      ? this.putInOneRequest({ ...options, size })
      : this.putInParts(options);
  }

  /**
   * Streams the body as one PutObject. S3 stores nothing of a request that does not complete, so a body
   * that fails, or an abort, leaves nothing behind; the request is aborted either way, so that it never
   * waits for bytes that will not come.
   */
  private async putInOneRequest({
    bucket,
    key,
    body,
    contentType,
    size,
    signal,
  }: PutObjectOptions & { size: number }) {
    const stop = new AbortController();
    const abortSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const checked = exactLength(size);
    const sending = this.client
      .send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: checked,
          ContentLength: size,
          ContentType: contentType,
        }),
        { abortSignal },
      )
      .catch((error: unknown) => {
        failUnread(checked, error);
        throw error;
      });
    const [fed, sent] = await Promise.allSettled([
      pipeline(body, checked, { signal }).catch((error: unknown) => {
        stop.abort(error);
        throw error;
      }),
      sending,
    ]);
    if (fed.status === 'rejected') throw fed.reason;
    if (sent.status === 'rejected') throw sent.reason;
    return { size };
  }

  private async putInParts({ bucket, key, body, contentType, signal }: PutObjectOptions) {
    const parts = new S3PartWriter(this.client, { bucket, key, contentType, signal });
    await pipeline(body, parts, { signal });
    return { size: parts.size };
  }

  async get({ bucket, key, range, signal }: GetObjectOptions): Promise<StoredObject> {
    const Range = range && `bytes=${range.start}-${range.end}`;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }), {
        abortSignal: signal,
      });
      if (!(out.Body instanceof Readable)) throw new Error('the S3 client did not return a Node.js stream');
      return {
        body: out.Body,
        size: range ? totalSize(out.ContentRange) : (out.ContentLength ?? 0),
        contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE,
      };
    } catch (error) {
      if (hasName(error, 'NoSuchKey', 'NotFound')) throw new ObjectNotFoundError(bucket, key);
      throw error;
    }
  }

  presignGet({ bucket, key, expiresInSeconds, contentType, cacheControl }: PresignGetOptions) {
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ResponseContentType: contentType,
      ResponseCacheControl: cacheControl,
    });
    return getSignedUrl(this.presignClient, command, { expiresIn: expiresInSeconds });
  }

  async head({ bucket, key, signal }: { bucket: string; key: string; signal?: AbortSignal }) {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      });
      return {
        size: out.ContentLength ?? 0,
        contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE,
      } satisfies ObjectHead;
    } catch (error) {
      if (hasName(error, 'NotFound', 'NoSuchKey')) return undefined;
      throw error;
    }
  }

  async delete({ bucket, keys, signal }: { bucket: string; keys: string[]; signal?: AbortSignal }) {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      await this.deleteKeys(bucket, keys.slice(start, start + DELETE_BATCH), signal);
    }
  }

  async *list({ bucket, prefix = '', signal }: { bucket: string; prefix?: string; signal?: AbortSignal }) {
    for await (const page of this.pages(bucket, prefix, signal)) {
      for (const { Key, Size, LastModified } of page) {
        if (Key !== undefined) yield { key: Key, size: Size ?? 0, lastModified: LastModified ?? new Date(0) };
      }
    }
  }

  async deletePrefix({ bucket, prefix, signal }: { bucket: string; prefix: string; signal?: AbortSignal }) {
    let deleted = 0;
    // A listing page holds at most 1000 keys, exactly one DeleteObjects batch.
    for await (const page of this.pages(bucket, prefix, signal)) {
      const keys = page.flatMap(({ Key }) => (Key === undefined ? [] : [Key]));
      await this.deleteKeys(bucket, keys, signal);
      deleted += keys.length;
    }
    return deleted;
  }

  /** The objects under `prefix`, a listing page (up to 1000, in key order) at a time. */
  private async *pages(bucket: string, prefix: string, signal: AbortSignal | undefined) {
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: bucket, Prefix: prefix },
      { abortSignal: signal },
    );
    for await (const page of pages) yield page.Contents ?? [];
  }

  async abortStaleUploads({ bucket, olderThan, key, signal }: AbortStaleUploadsOptions) {
    let aborted = 0;
    for await (const { Key, UploadId, Initiated } of this.listUploads(bucket, key, signal)) {
      if (!Initiated || Initiated >= olderThan || (key !== undefined && Key !== key)) continue;
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }), {
          abortSignal: signal,
        });
        aborted += 1;
      } catch (error) {
        // Completed or aborted by someone else since the listing.
        if (!hasName(error, 'NoSuchUpload')) throw error;
      }
    }
    return aborted;
  }

  private async deleteKeys(bucket: string, keys: string[], signal: AbortSignal | undefined) {
    if (keys.length === 0) return;
    const out = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
      { abortSignal: signal },
    );
    // DeleteObjects answers 200 even when single keys failed; missing keys are not failures.
    const failed = out.Errors?.[0];
    if (failed) throw new Error(`cannot delete ${bucket}/${failed.Key}: ${failed.Code} ${failed.Message}`);
  }

  // The SDK has no paginator for ListMultipartUploads: it pages with two markers.
  private async *listUploads(
    bucket: string,
    prefix: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<MultipartUpload> {
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, ...markers }),
        {
          abortSignal: signal,
        },
      );
      yield* page.Uploads ?? [];
      if (!page.IsTruncated) return;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
  }
}

/**
 * Ends a body that the store stopped reading (its request failed), failing the pipeline that feeds it if
 * one still does. Once the pipeline and the SDK have let go of it nobody listens to it any more, and an
 * error emitted then would end the process (it did, with MinIO stopped under uploads): it is only closed.
 */
function failUnread(body: Transform, error: unknown): void {
  if (body.listenerCount('error') === 0) body.destroy();
  else body.destroy(error instanceof Error ? error : new Error(String(error)));
}

function hasName(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** The whole object's size from a `Content-Range: bytes 0-99/1234` header. */
function totalSize(contentRange: string | undefined): number {
  const total = /^bytes \d+-\d+\/(\d+)$/.exec(contentRange ?? '')?.[1];
  if (total === undefined) throw new Error(`unexpected Content-Range from S3: ${contentRange}`);
  return Number(total);
}
