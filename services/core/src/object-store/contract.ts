import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { ObjectNotFoundError, type ListedObject, type ObjectStore } from './object-store.ts';

export interface ContractSetup {
  store: ObjectStore;
  /** A bucket name nobody uses yet; the suite creates it and a few buckets named after it. */
  bucket: string;
  /**
   * Leaves one unfinished write in `bucket`, as a crashed process would. Required rather than optional so
   * that no implementation can pass the suite without its stale-upload cleanup being exercised.
   */
  leaveStaleUpload: (bucket: string, key: string) => Promise<void>;
  /** Releases what setup acquired; the suite has already removed its buckets. */
  cleanup: () => Promise<void>;
}

const MiB = 1024 * 1024;
// Above two 5 MiB parts, so S3 stores it as a real multipart upload of three parts.
const LARGE = 12 * MiB + 12_345;
// Past two 5 MiB parts: a failing S3 put has parts in flight, which must be finished or aborted before it settles.
const PAST_TWO_PARTS = 11 * MiB;
const inAMinute = () => new Date(Date.now() + 60_000);
const anHourAgo = () => new Date(Date.now() - 3_600_000);

/**
 * The behaviour every ObjectStore implementation shares. Each implementation's test file calls this with a
 * setup that builds the store against something real (a temp directory, MinIO).
 */
export function describeObjectStoreContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let bucket: string;
    let leaveStaleUpload: ContractSetup['leaveStaleUpload'];
    let cleanup: ContractSetup['cleanup'] | undefined;
    const other = (suffix: string) => `${bucket}-${suffix}`;
    const putText = (key: string, text: string, contentType = 'text/plain', into = bucket) =>
      store.put({ bucket: into, key, body: Readable.from([Buffer.from(text)]), contentType });
    const listKeys = async (prefix: string) => {
      const keys: string[] = [];
      for await (const { key } of store.list({ bucket, prefix })) keys.push(key);
      return keys;
    };
    const getText = async (key: string) => (await buffer((await store.get({ bucket, key })).body)).toString();
    // Nothing remains of a failed put: no unfinished write (checked first, before a cleanup running on in the
    // background could finish) and no object.
    const assertNothingLeft = async (key: string) => {
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute() }), 0);
      assert.equal(await store.head({ bucket, key }), undefined);
    };

    before(async () => {
      ({ store, bucket, leaveStaleUpload, cleanup } = await setup());
      await store.ensureBucket(bucket);
    });

    after(async () => {
      if (!cleanup) return; // setup itself failed
      try {
        for (const name of [bucket, other('removed')]) await store.removeBucket(name);
      } finally {
        await cleanup();
      }
    });

    it('ensureBucket is idempotent, applies tags and keeps the objects', async () => {
      await putText('kept.txt', 'still here');
      await store.ensureBucket(bucket, { tags: { 'stowage/tenant': 'contract' } });
      await store.ensureBucket(bucket);
      assert.equal(await store.bucketExists(bucket), true);
      assert.equal(await getText('kept.txt'), 'still here');
    });

    it('bucketExists is false for a bucket never created, and put into it rejects', async () => {
      assert.equal(await store.bucketExists(other('never')), false);
      await assert.rejects(putText('x.txt', 'x', 'text/plain', other('never')));
      assert.equal(await store.bucketExists(other('never')), false);
    });

    it('round-trips a large body streamed in uneven chunks', async () => {
      const data = randomBytes(LARGE);
      const put = await store.put({
        bucket,
        key: 'large.bin',
        body: Readable.from(unevenChunks(data)),
        contentType: 'application/octet-stream',
      });
      assert.equal(put.size, data.length);
      assert.deepEqual(await store.head({ bucket, key: 'large.bin' }), {
        size: data.length,
        contentType: 'application/octet-stream',
      });
      const got = await store.get({ bucket, key: 'large.bin' });
      assert.equal(got.size, data.length);
      assert.equal(await sha256(got.body), createHash('sha256').update(data).digest('hex'));
    });

    it('round-trips a large body of a declared size', async () => {
      const data = randomBytes(LARGE);
      const put = await store.put({
        bucket,
        key: 'sized.bin',
        body: Readable.from(unevenChunks(data)),
        contentType: 'application/octet-stream',
        size: data.length,
      });
      assert.equal(put.size, data.length);
      const got = await store.get({ bucket, key: 'sized.bin' });
      assert.equal(await sha256(got.body), createHash('sha256').update(data).digest('hex'));
    });

    for (const [what, actual] of [
      ['shorter', PAST_TWO_PARTS - 1],
      ['longer', PAST_TWO_PARTS + 1],
    ] as const) {
      it(`a body ${what} than its declared size rejects the put and leaves nothing behind`, async () => {
        const body = Readable.from(unevenChunks(randomBytes(actual)));
        const put = store.put({ bucket, key: `${what}.bin`, body, contentType: 'x/y', size: PAST_TWO_PARTS });
        await assert.rejects(put, /not the \d+ bytes declared/);
        await assertNothingLeft(`${what}.bin`);
      });
    }

    it('a body of a declared size that fails mid-way rejects the put and leaves nothing behind', async () => {
      const failure = new Error('the client went away');
      const body = Readable.from(
        (async function* () {
          yield* unevenChunks(randomBytes(PAST_TWO_PARTS));
          throw failure;
        })(),
      );
      const put = store.put({
        bucket,
        key: 'sized-failed',
        body,
        contentType: 'x/y',
        size: 2 * PAST_TWO_PARTS,
      });
      await assert.rejects(put, failure);
      await assertNothingLeft('sized-failed');
    });

    it('stores an empty body', async () => {
      assert.deepEqual(
        await store.put({ bucket, key: 'empty', body: Readable.from([]), contentType: 'x/y' }),
        {
          size: 0,
        },
      );
      const got = await store.get({ bucket, key: 'empty' });
      assert.equal(got.size, 0);
      assert.equal((await buffer(got.body)).length, 0);
      assert.deepEqual(await store.head({ bucket, key: 'empty' }), { size: 0, contentType: 'x/y' });
    });

    it('preserves the content type, and a second put replaces bytes and type', async () => {
      await putText('typed', '{"a":1}', 'application/json; charset=utf-8');
      assert.equal(
        (await store.head({ bucket, key: 'typed' }))?.contentType,
        'application/json; charset=utf-8',
      );
      await putText('typed', 'plain words', 'text/plain');
      const got = await store.get({ bucket, key: 'typed' });
      assert.equal(got.contentType, 'text/plain');
      assert.equal(got.size, 'plain words'.length);
      assert.equal((await buffer(got.body)).toString(), 'plain words');
    });

    it('serves inclusive byte ranges and reports the whole size', async () => {
      const data = randomBytes(1000);
      await store.put({ bucket, key: 'ranged', body: Readable.from([data]), contentType: 'image/png' });
      for (const range of [
        { start: 0, end: 0 },
        { start: 100, end: 199 },
        { start: 999, end: 999 },
        { start: 0, end: 999 },
      ]) {
        const got = await store.get({ bucket, key: 'ranged', range });
        assert.equal(got.size, 1000);
        assert.equal(got.contentType, 'image/png');
        assert.deepEqual(
          await buffer(got.body),
          data.subarray(range.start, range.end + 1),
          JSON.stringify(range),
        );
      }
    });

    it('reports a missing object: head → undefined, get → ObjectNotFoundError', async () => {
      assert.equal(await store.head({ bucket, key: 'missing' }), undefined);
      await assert.rejects(store.get({ bucket, key: 'missing' }), (error: unknown) => {
        assert.ok(error instanceof ObjectNotFoundError);
        assert.deepEqual([error.bucket, error.key], [bucket, 'missing']);
        return true;
      });
      await assert.rejects(
        store.get({ bucket, key: 'missing', range: { start: 0, end: 0 } }),
        ObjectNotFoundError,
      );
    });

    it('stores keys with slashes and other characters', async () => {
      for (const key of ['a/b/c/d.txt', 'with space/ünïcødé (1).txt', 'a/b/sibling']) {
        await putText(key, `content of ${key}`);
        assert.equal(await getText(key), `content of ${key}`);
      }
      assert.equal(await getText('a/b/c/d.txt'), 'content of a/b/c/d.txt');
    });

    it('delete removes existing keys, ignores missing ones and leaves the rest', async () => {
      await putText('del/one', '1');
      await putText('del/two/deep', '2');
      await putText('del/keep', 'k');
      await store.delete({ bucket, keys: ['del/one', 'del/two/deep', 'del/never-existed'] });
      await store.delete({ bucket, keys: [] });
      assert.equal(await store.head({ bucket, key: 'del/one' }), undefined);
      assert.equal(await store.head({ bucket, key: 'del/two/deep' }), undefined);
      assert.equal(await getText('del/keep'), 'k');
      // The name of what was a "directory" of deleted keys is free again.
      await putText('del/two', 'now a key');
      assert.equal(await getText('del/two'), 'now a key');
    });

    it('deletePrefix deletes exactly the keys starting with the prefix and counts them', async () => {
      const doomed = ['docs/2024/a.txt', 'docs/2024/b/c.txt', 'docs/2025.txt'];
      const kept = ['docs/19.txt', 'docs/2', 'doc', 'other/docs/2024.txt'];
      for (const key of [...doomed, ...kept]) await putText(key, key);
      assert.equal(await store.deletePrefix({ bucket, prefix: 'docs/20' }), doomed.length);
      for (const key of doomed) assert.equal(await store.head({ bucket, key }), undefined, key);
      for (const key of kept) assert.equal(await getText(key), key);
      assert.equal(await store.deletePrefix({ bucket, prefix: 'docs/20' }), 0);
    });

    it('list and deletePrefix page through more than a thousand objects', async () => {
      const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((key) => putText(key, key)));
      }
      await putText('many-not/0000', 'kept');
      assert.deepEqual(await listKeys('many/'), keys);
      assert.equal(await store.deletePrefix({ bucket, prefix: 'many/' }), keys.length);
      assert.equal(await store.head({ bucket, key: 'many/1000' }), undefined);
      assert.equal(await getText('many-not/0000'), 'kept');
    });

    it('list yields keys with prefix, size and time, in the byte order of their UTF-8 keys', async () => {
      const before = Date.now() - 60_000;
      // "-" < "." < "/" < "_" in bytes, so the keys under "a/" come between siblings named like "a";
      // "é" (two bytes) after ASCII; U+1F600 (four bytes) after U+FFFD, though its UTF-16 form is smaller.
      const stored = ['ls/a-b', 'ls/a.c', 'ls/a/z', 'ls/a_d', 'ls/b', 'ls/é', 'ls/\ufffd', 'ls/\u{1f600}'];
      for (const [i, key] of [...stored].reverse().entries()) await putText(key, 'x'.repeat(i));
      await putText('lsx', 'outside the prefix');
      await leaveStaleUpload(bucket, 'ls/unfinished');
      const listed: ListedObject[] = [];
      for await (const object of store.list({ bucket, prefix: 'ls/' })) listed.push(object);
      assert.deepEqual(
        listed.map((o) => o.key),
        stored,
      );
      assert.deepEqual(
        listed.map((o) => o.size),
        stored.map((_, i) => stored.length - 1 - i),
      );
      for (const { lastModified } of listed) {
        assert.ok(lastModified.getTime() > before && lastModified.getTime() < Date.now() + 60_000);
      }
      assert.ok((await listKeys('')).includes('lsx'));
      assert.deepEqual(await listKeys('ls/a/'), ['ls/a/z']);
      assert.deepEqual(await listKeys('nothing-here/'), []);
      await store.abortStaleUploads({ bucket, olderThan: inAMinute(), key: 'ls/unfinished' });
    });

    it('a body that fails mid-way rejects the put and leaves nothing behind', async () => {
      const failure = new Error('the client went away');
      const body = Readable.from(
        (async function* () {
          yield* unevenChunks(randomBytes(PAST_TWO_PARTS));
          throw failure;
        })(),
      );
      await assert.rejects(store.put({ bucket, key: 'failed', body, contentType: 'x/y' }), failure);
      await assertNothingLeft('failed');
    });

    it('aborting mid-put rejects with AbortError and leaves nothing behind', async () => {
      const controller = new AbortController();
      const body = Readable.from(
        (async function* () {
          let sent = 0;
          for (;;) {
            if (sent >= PAST_TWO_PARTS) controller.abort();
            const chunk = randomBytes(256 * 1024);
            sent += chunk.length;
            yield chunk;
          }
        })(),
      );
      const put = store.put({ bucket, key: 'aborted', body, contentType: 'x/y', signal: controller.signal });
      await assert.rejects(put, { name: 'AbortError' });
      await assertNothingLeft('aborted');
    });

    it('an already aborted signal writes nothing', async () => {
      const put = store.put({
        bucket,
        key: 'never-started',
        body: Readable.from([Buffer.from('x')]),
        contentType: 'x/y',
        signal: AbortSignal.abort(),
      });
      await assert.rejects(put, { name: 'AbortError' });
      await assertNothingLeft('never-started');
    });

    it('abortStaleUploads removes unfinished writes started before the cutoff, only those', async () => {
      await leaveStaleUpload(bucket, 'crashed.bin');
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: anHourAgo() }), 0);
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute() }), 1);
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute() }), 0);
    });

    it("abortStaleUploads with a key removes only that key's unfinished writes", async () => {
      await leaveStaleUpload(bucket, 'dir/one.bin');
      await leaveStaleUpload(bucket, 'dir/one.bin.other');
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute(), key: 'dir/one.bin' }), 1);
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute(), key: 'dir/one.bin' }), 0);
      assert.equal(await store.abortStaleUploads({ bucket, olderThan: inAMinute() }), 1);
    });

    it('removeBucket removes a bucket with objects and unfinished writes, and is idempotent', async () => {
      const removed = other('removed');
      await store.ensureBucket(removed);
      await putText('nested/object.txt', 'x', 'text/plain', removed);
      await putText('top', 'y', 'text/plain', removed);
      await leaveStaleUpload(removed, 'stale.bin');
      await store.removeBucket(removed);
      assert.equal(await store.bucketExists(removed), false);
      await store.removeBucket(removed);
      await store.removeBucket(other('never'));
      // Recreated under the same name, it starts empty.
      await store.ensureBucket(removed);
      assert.equal(await store.head({ bucket: removed, key: 'top' }), undefined);
      assert.equal(await store.abortStaleUploads({ bucket: removed, olderThan: inAMinute() }), 0);
    });
  });
}

/** Slices `data` into chunks of varying, odd sizes so no implementation can rely on aligned writes. */
function* unevenChunks(data: Buffer): Generator<Buffer> {
  for (let offset = 0, i = 0; offset < data.length; i += 1) {
    const size = 1 + ((i * 65_521) % 300_007);
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

async function sha256(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
