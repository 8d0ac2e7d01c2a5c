import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  AbortMultipartUploadCommand,
  GetBucketTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, isDependencyUnavailable, loadConfig, S3ObjectStore } from '@stowage/core';
import { describeObjectStoreContract } from '../../services/core/src/object-store/contract.ts';
import { leaveStaleMultipartUpload } from '../support/api-stack.ts';
import { requireEnv, uniqueName } from '../support/env.ts';

const MiB = 1024 * 1024;

function connect(): S3Client {
  requireEnv('S3_ENDPOINT');
  return createS3Client(loadConfig().s3);
}

describeObjectStoreContract('S3ObjectStore (real MinIO)', async () => {
  const client = connect();
  return {
    store: new S3ObjectStore(client),
    bucket: uniqueName('contract'),
    leaveStaleUpload: (bucket, key) => leaveStaleMultipartUpload(client, bucket, key),
    cleanup: async () => client.destroy(),
  };
});

describe('S3ObjectStore on real MinIO, beyond the contract', () => {
  let client: S3Client;
  let store: S3ObjectStore;
  const bucket = uniqueName('s3-store');

  before(() => {
    client = connect();
    store = new S3ObjectStore(client);
  });

  after(async () => {
    await store.removeBucket(bucket);
    client.destroy();
  });

  it('tags the bucket and replaces the tags on a later ensureBucket', async () => {
    await store.ensureBucket(bucket, { tags: { 'stowage/tenant': 'acme', team: 'a' } });
    await store.ensureBucket(bucket, { tags: { 'stowage/tenant': 'acme' } });
    const { TagSet } = await client.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    assert.deepEqual(TagSet, [{ Key: 'stowage/tenant', Value: 'acme' }]);
  });

  it('streams a large body as a multipart upload instead of buffering it', async () => {
    await store.ensureBucket(bucket);
    const data = randomBytes(12 * MiB);
    const body = Readable.from([data.subarray(0, 6 * MiB), data.subarray(6 * MiB)]);
    await store.put({ bucket, key: 'large.bin', body, contentType: 'application/octet-stream' });
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large.bin' }));
    assert.match(head.ETag ?? '', /-3"$/, 'a multipart ETag names its part count: three 5 MiB parts');
  });

  it('rejects a put whose part S3 refuses, and stops reading the body', async () => {
    await store.ensureBucket(bucket);
    let sent = 0;
    // Once the first part is on its way, the upload is aborted behind the store's back: S3 refuses the
    // parts after it, and the put must fail instead of reading the rest of the body.
    const body = Readable.from(
      (async function* () {
        for (; sent < 64 * MiB; sent += MiB) {
          if (sent === 8 * MiB) {
            const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
            const upload = listed.Uploads?.find((u) => u.Key === 'refused.bin');
            const target = { Bucket: bucket, Key: 'refused.bin', UploadId: upload?.UploadId };
            await client.send(new AbortMultipartUploadCommand(target));
          }
          yield randomBytes(MiB);
        }
      })(),
    );
    const put = store.put({ bucket, key: 'refused.bin', body, contentType: 'application/octet-stream' });
    await assert.rejects(put, { name: 'NoSuchUpload' });
    assert.ok(sent < 32 * MiB, `read ${sent / MiB} MiB of a body whose upload had failed`);
    assert.equal(await store.head({ bucket, key: 'refused.bin' }), undefined);
  });
});

describe('S3ObjectStore with a store that goes away', () => {
  it('rejects a put, in one request or in parts, and the process goes on', async () => {
    // A store that takes the connection and drops it a moment later, as one being stopped does.
    const sockets = new Set<Socket>();
    const dropping = createServer((socket) => {
      sockets.add(socket);
      setTimeout(() => socket.destroy(), 200);
    });
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve));
    const { port } = dropping.address() as AddressInfo;
    const settings = loadConfig({
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_ACCESS_KEY_ID: 'nobody',
      S3_SECRET_ACCESS_KEY: 'nothing',
    }).s3;
    const client = createS3Client(settings);
    const store = new S3ObjectStore(client);
    try {
      // The small body is fed whole long before the request fails. The error must say that the store is
      // unavailable (the API answers 503 for it), and failing the body must not end the process.
      for (const size of [5, undefined]) {
        const body = Readable.from([Buffer.from('hello')]);
        const put = store.put({ bucket: 'b', key: 'k', body, contentType: 'text/plain', size });
        await assert.rejects(put, (err) => isDependencyUnavailable(err));
      }
      await new Promise((resolve) => setImmediate(resolve)); // where the stray error was emitted
    } finally {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      dropping.close();
    }
  });
});
