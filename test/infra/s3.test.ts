import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3Client, loadConfig } from '@stowage/core';
import { requireEnv, uniqueName } from '../support/env.ts';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('S3 (real MinIO, via @aws-sdk/client-s3 and lib-storage)', () => {
  let s3: S3Client;
  const bucket = uniqueName('infra');

  before(async () => {
    requireEnv('S3_ENDPOINT');
    s3 = createS3Client(loadConfig().s3);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const { Key } of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('puts and gets an object', async () => {
    const body = randomBytes(4096);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'small.bin',
        Body: body,
        ContentType: 'application/octet-stream',
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.bin' }));
    assert.equal(got.ContentLength, body.length);
    assert.equal(got.ContentType, 'application/octet-stream');
    assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body));
  });

  it('streams a multipart upload of three parts', async () => {
    const body = randomBytes(12 * MiB + 123);
    // A stream of unknown length forces lib-storage into a real multipart upload of 5 MiB parts.
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'large.bin', Body: Readable.from(chunks(body, 256 * 1024)) },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const parts: number[] = [];
    upload.on('httpUploadProgress', (p) => p.part !== undefined && parts.push(p.part));
    await upload.done();

    assert.deepEqual([...new Set(parts)].sort(), [1, 2, 3]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
    assert.equal(head.ContentLength, body.length);
    assert.match(head.ETag ?? '', /-3"$/, 'a multipart ETag names its part count');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
    assert.equal(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body));
  });

  it('aborts a multipart upload and leaves no upload behind', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'aborted.bin' }),
    );
    await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'aborted.bin',
        UploadId,
        PartNumber: 1,
        Body: randomBytes(5 * MiB),
      }),
    );
    const before = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(
      before.Uploads?.map((u) => u.UploadId),
      [UploadId],
    );

    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted.bin', UploadId }));
    const afterAbort = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(afterAbort.Uploads?.length ?? 0, 0);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'aborted.bin' })), {
      name: 'NotFound',
    });
  });
});

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
