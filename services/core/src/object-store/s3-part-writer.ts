import { Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

// S3's minimum part size. An upload holds one part filling and at most two in flight, in three buffers
// reused from part to part (15 MiB), and 10,000 parts still allow objects of 48 GiB.
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;
const MAX_PARTS = 10_000;

export interface PartWriterTarget {
  bucket: string;
  key: string;
  contentType: string;
  /** Aborts the requests in flight; the writer, destroyed, then aborts the multipart upload. */
  signal?: AbortSignal | undefined;
}

/**
 * Writes a stream of unknown length to S3 as a multipart upload, or as one PutObject if it fits in one
 * part. Each part is copied into a buffer that is used again once S3 has the part. lib-storage's Upload,
 * which this replaces, concatenated a new buffer for every part: garbage that V8 freed only at its next
 * full collection, so a long upload grew the API's memory by tens of MiB (BENCHMARKS.md, "Making it fast").
 * Destroyed before it completes, with or without an error, it aborts the multipart upload once the
 * parts in flight have settled, before it emits 'error' or 'close': no part outlives a failed pipeline.
 */
export class S3PartWriter extends Writable {
  /** The bytes written so far: the object's size once the writer has finished. */
  size = 0;
  private part: Buffer | undefined;
  private filled = 0;
  private readonly spare: Buffer[] = [];
  private readonly sending = new Set<Promise<void>>();
  private readonly parts: { PartNumber: number; ETag: string | undefined }[] = [];
  private partCount = 0;
  private uploadId: Promise<string> | undefined;
  private completed = false;

  constructor(
    private readonly client: S3Client,
    private readonly target: PartWriterTarget,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.abandon().then(
      () => callback(error),
      (abortError: Error) => callback(error ?? abortError),
    );
  }

  private async take(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length && !this.destroyed;) {
      // A full part is sent only once more bytes come: a body of exactly one part is one PutObject.
      if (this.filled === PART_SIZE) await this.sendPart();
      this.part ??= this.spare.pop() ?? Buffer.allocUnsafe(PART_SIZE);
      const copied = chunk.copy(this.part, this.filled, at);
      this.filled += copied;
      at += copied;
    }
    this.size += chunk.length;
  }

  private async finish(): Promise<void> {
    const { bucket: Bucket, key: Key, contentType: ContentType, signal: abortSignal } = this.target;
    if (!this.uploadId) {
      const Body = this.part?.subarray(0, this.filled) ?? Buffer.alloc(0);
      await this.client.send(new PutObjectCommand({ Bucket, Key, ContentType, Body }), { abortSignal });
      this.completed = true;
      return;
    }
    if (this.filled > 0) await this.sendPart();
    await Promise.all(this.sending);
    if (this.destroyed) return;
    const Parts = this.parts.sort((a, b) => a.PartNumber - b.PartNumber);
    const UploadId = await this.uploadId;
    await this.client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }),
      { abortSignal },
    );
    this.completed = true;
  }

  /** Starts sending the part filled so far; waits while QUEUE_SIZE parts are in flight. */
  private async sendPart(): Promise<void> {
    const { bucket: Bucket, key: Key, contentType: ContentType, signal: abortSignal } = this.target;
    const buffer = this.part!;
    const Body = buffer.subarray(0, this.filled);
    const PartNumber = ++this.partCount;
    if (PartNumber > MAX_PARTS)
      throw new Error(`the body needs more than ${MAX_PARTS} parts of ${PART_SIZE} bytes`);
    this.part = undefined;
    this.filled = 0;
    this.uploadId ??= this.client
      .send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }), { abortSignal })
      .then(({ UploadId }) => UploadId ?? Promise.reject(new Error('S3 returned no UploadId')));
    const UploadId = await this.uploadId;
    // Destroyed meanwhile: abandon() may already be waiting for the parts in flight, so no new one starts.
    if (this.destroyed) return;
    const sent = this.client
      .send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body }), { abortSignal })
      .then(
        ({ ETag }) => {
          this.parts.push({ PartNumber, ETag });
          this.spare.push(buffer);
        },
        (error: Error) => {
          this.destroy(error);
        },
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
    if (this.sending.size >= QUEUE_SIZE) await Promise.race(this.sending);
  }

  /** Aborts the multipart upload of a writer destroyed before it completed. */
  private async abandon(): Promise<void> {
    if (this.completed || !this.uploadId) return;
    const UploadId = await this.uploadId.catch(() => undefined);
    if (UploadId === undefined) return;
    // S3 may keep a part that is still arriving when the upload is aborted.
    while (this.sending.size > 0) await Promise.all(this.sending);
    const { bucket: Bucket, key: Key } = this.target;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  }
}
