import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DirectUploads, MultipartTarget, UploadedPart } from './object-store.ts';

/**
 * Direct uploads on S3. Part URLs are signed with `presignClient`, which points at the endpoint clients
 * can reach (S3_PUBLIC_ENDPOINT), while everything else goes through the internal one.
 */
export class S3DirectUploads implements DirectUploads {
  constructor(
    private readonly client: S3Client,
    private readonly presignClient: S3Client,
  ) {}

  async create({ bucket, key, contentType }: { bucket: string; key: string; contentType: string }) {
    const out = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
    );
    if (!out.UploadId) throw new Error('S3 returned no UploadId');
    return out.UploadId;
  }

  presignPart(options: MultipartTarget & { partNumber: number; size: number; expiresInSeconds: number }) {
    const command = new UploadPartCommand({
      Bucket: options.bucket,
      Key: options.key,
      UploadId: options.uploadId,
      PartNumber: options.partNumber,
      ContentLength: options.size,
    });
    // Content-Length is signed, so S3 refuses a part of any other size: no one can park terabytes
    // behind a small declared upload until complete checks it.
    return getSignedUrl(this.presignClient, command, {
      expiresIn: options.expiresInSeconds,
      signableHeaders: new Set(['content-length']),
    });
  }

  async listParts({ bucket, key, uploadId }: MultipartTarget) {
    const parts: UploadedPart[] = [];
    // Paged by IsTruncated by hand: MinIO sets NextPartNumberMarker on the last page too, which keeps
    // the SDK's paginator asking forever.
    let marker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const p of page.Parts ?? []) {
        if (p.PartNumber !== undefined && p.ETag !== undefined) {
          parts.push({ partNumber: p.PartNumber, etag: p.ETag, size: p.Size ?? 0 });
        }
      }
      if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
      marker = page.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async complete({ bucket, key, uploadId, parts }: MultipartTarget & { parts: UploadedPart[] }) {
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  }

  async abort({ bucket, key, uploadId }: MultipartTarget) {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!(error instanceof Error && error.name === 'NoSuchUpload')) throw error;
    }
  }
}
