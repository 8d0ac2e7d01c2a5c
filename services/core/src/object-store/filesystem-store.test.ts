import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { describeObjectStoreContract } from './contract.ts';
import { FilesystemObjectStore, incomingPrefix } from './filesystem-store.ts';

describeObjectStoreContract('FilesystemObjectStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-fs-store-'));
  return {
    store: new FilesystemObjectStore(root),
    bucket: 'contract',
    // What a process that died mid-put leaves behind.
    leaveStaleUpload: (bucket, key) =>
      writeFile(join(root, bucket, '.incoming', `${incomingPrefix(key)}crashed`), 'partial'),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FilesystemObjectStore rejects names that could leave its root', () => {
  let outside: string;
  let store: FilesystemObjectStore;

  before(async () => {
    // The store lives one level down, so anything escaping it would land in `outside`.
    outside = await mkdtemp(join(tmpdir(), 'stowage-fs-escape-'));
    store = new FilesystemObjectStore(join(outside, 'root'));
    await mkdir(join(outside, 'root'));
    await store.ensureBucket('bucket');
  });

  after(() => rm(outside, { recursive: true, force: true }));

  const unsafeKeys = [
    '../escaped',
    '../../escaped',
    'a/../../../escaped',
    '/etc/escaped',
    'a\0b',
    '',
    'a//b',
    './a',
  ];
  for (const key of unsafeKeys) {
    it(`rejects the key ${JSON.stringify(key)} in every operation`, async () => {
      const expected = { message: /could escape the bucket directory/ };
      const body = Readable.from([Buffer.from('x')]);
      await assert.rejects(store.put({ bucket: 'bucket', key, body, contentType: 'x/y' }), expected);
      await assert.rejects(store.get({ bucket: 'bucket', key }), expected);
      await assert.rejects(store.head({ bucket: 'bucket', key }), expected);
      await assert.rejects(store.delete({ bucket: 'bucket', keys: ['fine', key] }), expected);
      assert.deepEqual(await readdir(outside), ['root']);
    });
  }

  for (const bucket of ['..', '.', '', 'a/b', '../root']) {
    it(`rejects the bucket name ${JSON.stringify(bucket)}`, async () => {
      const expected = { message: /is not a single directory name/ };
      await assert.rejects(store.ensureBucket(bucket), expected);
      await assert.rejects(store.removeBucket(bucket), expected);
      await assert.rejects(store.bucketExists(bucket), expected);
      assert.deepEqual(await readdir(join(outside, 'root')), ['bucket']);
    });
  }
});
