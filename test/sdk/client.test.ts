import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Stowage, StowageError, type UploadProgress } from '@stowage/sdk';
import { Stowage as NodeStowage } from '@stowage/sdk/node';
import { embeddedBackend, stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { PNG_1X1 } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { holdings, MiB, onStack, recordingFetch, rejectsWith, served, sha256 } from './support.ts';

/** A web stream of `bytes` in chunks of `chunk` bytes, pulled one at a time. */
function chunked(bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

for (const backend of stackBackends) {
  describe(`@stowage/sdk against ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let dir: string;
    const client = (options: Partial<ConstructorParameters<typeof Stowage>[0]> = {}) =>
      new Stowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'docs', ...options });
    const nodeClient = (options: Partial<ConstructorParameters<typeof NodeStowage>[0]> = {}) =>
      new NodeStowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'docs', ...options });

    before(async () => {
      stack = await backend.create();
      dir = await mkdtemp(join(tmpdir(), 'stowage-sdk-test-'));
    });
    // A tenant per test: usage and listings start empty.
    beforeEach(async () => {
      tenant = await stack.createTenant();
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
      await stack.close();
    });

    it('uploads a Blob, a File, bytes, a web stream, a Node stream and a path, each stored as sent', async () => {
      const bytes = randomBytes(200 * 1024);
      const path = join(dir, 'from-disk.bin');
      await writeFile(path, bytes);
      const sdk = client();
      const node = nodeClient();
      const uploads = [
        await sdk.uploadFile(new Blob([bytes])),
        await sdk.uploadFile(new File([bytes], 'report final.bin')),
        await sdk.uploadFile(bytes, { filename: 'buffer.bin', bucket: 'other' }),
        await sdk.uploadFile(chunked(bytes), { filename: 'web.bin' }),
        await node.uploadFile(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), {
          filename: 'node.bin',
        }),
        await node.uploadFile(path, { allowPublicAccess: false }),
      ];
      assert.deepEqual(
        uploads.map((u) => [u.file.original, u.file.bucket, u.file.size, u.file.allowPublicAccess]),
        [
          ['file', 'docs', bytes.length, true],
          ['report final.bin', 'docs', bytes.length, true],
          ['buffer.bin', 'other', bytes.length, true],
          ['web.bin', 'docs', bytes.length, true],
          ['node.bin', 'docs', bytes.length, true],
          ['from-disk.bin', 'docs', bytes.length, false],
        ],
      );
      for (const upload of uploads) {
        assert.equal(upload.success, true);
        assert.equal(sha256(await served(onStack(stack, upload.url), tenant.key)), sha256(bytes));
      }
      assert.equal((await holdings(stack, tenant)).files, 6);
    });

    it('reports progress: from 0 to the size, never going back', async () => {
      const bytes = randomBytes(MiB);
      const seen: Record<string, UploadProgress[]> = { web: [], node: [], nodeStream: [] };
      await client().uploadFile(bytes, { onProgress: (p) => seen.web!.push(p) });
      await nodeClient().uploadFile(bytes, { onProgress: (p) => seen.node!.push(p) });
      await nodeClient().uploadFile(Readable.from([bytes]), {
        onProgress: (p) => seen.nodeStream!.push(p),
      });
      for (const [name, events] of Object.entries(seen)) {
        assert.deepEqual(events[0], { loaded: 0, total: name === 'nodeStream' ? undefined : MiB }, name);
        assert.equal(events.at(-1)!.loaded, MiB, name);
        for (let i = 1; i < events.length; i++) assert.ok(events[i]!.loaded >= events[i - 1]!.loaded, name);
      }
      assert.deepEqual(seen.web, [
        { loaded: 0, total: MiB },
        { loaded: MiB, total: MiB },
      ]);
      assert.ok(seen.node!.length > 3, 'in Node.js progress follows the bytes as they go out');
    });

    it('lists a page, and walks every page of a bucket with files()', async () => {
      const sdk = client();
      const keys = [];
      for (let i = 0; i < 5; i++) keys.push((await sdk.uploadFile(Buffer.from(`file ${i}`))).file.key);
      const first = await sdk.listFiles('docs', { limit: 2 });
      assert.deepEqual(
        first.files.map((f) => f.key),
        keys.slice(0, 2),
      );
      assert.equal(first.hasMore, true);
      const second = await sdk.listFiles(undefined, { limit: 2, cursor: first.nextCursor! });
      assert.deepEqual(
        second.files.map((f) => f.key),
        keys.slice(2, 4),
      );

      const { fetch, sent } = recordingFetch();
      const walked = [];
      for await (const file of client({ fetch }).files('docs', { limit: 2 })) walked.push(file.key);
      assert.deepEqual(walked, keys);
      assert.equal(sent.length, 3, 'three pages of at most two');
    });

    it("gets a file's metadata, signs a URL for a protected file, and names an image's variants", async () => {
      const sdk = client();
      const image = await sdk.uploadFile(new File([PNG_1X1], 'dot.png'), { allowPublicAccess: false });
      const { file } = await sdk.getFile(image.file.key);
      assert.equal(file.key, image.file.key);
      assert.equal(file.mimetype, 'image/png');
      assert.equal(file.allowPublicAccess, false);
      assert.ok(['pending', 'ready'].includes(file.variantStatus), file.variantStatus);

      const variants = sdk.variantUrls(image);
      assert.deepEqual(variants, {
        large: image.variants!.large!.url,
        small: image.variants!.small!.url,
        thumb: image.variants!.thumb!.url,
      });
      assert.deepEqual(sdk.variantUrls(image.url), variants, 'the URL alone names them too');

      const anonymous = await fetch(onStack(stack, image.url));
      assert.equal(anonymous.status, 404, 'protected');
      const signed = await sdk.signedUrl(image.file.key, { expiresIn: 60 });
      assert.ok(Date.parse(signed.expiresAt) > Date.now());
      assert.deepEqual(await served(onStack(stack, signed.url)), PNG_1X1);
      const signedThumb = new URL(sdk.variantUrls(signed.url).thumb);
      assert.equal(signedThumb.search, new URL(signed.url).search, 'the signature serves the variants');
      assert.match(signedThumb.pathname, new RegExp(`/${image.file.id}-thumb\\.webp$`));
    });

    it('removes a file and a bucket, and reports usage', async () => {
      const sdk = client();
      const one = await sdk.uploadFile(Buffer.from('one'));
      await sdk.uploadFile(Buffer.from('two'));
      await sdk.uploadFile(Buffer.from('three'), { bucket: 'keep' });
      const usage = await sdk.getUsage();
      assert.equal(usage.data.usedQuota, 11);
      assert.equal(usage.data.fileCount, 3);

      assert.deepEqual(await sdk.removeFile(one.file.key), {
        success: true,
        message: 'File deleted successfully',
        key: one.file.key,
      });
      const gone = await rejectsWith(sdk.getFile(one.file.key), 'FILE_NOT_FOUND', 404);
      assert.ok(gone.requestId, 'errors carry the request id');
      assert.equal((await sdk.removeFile(one.file.key)).success, true, 'removing it again succeeds too');

      const removed = await sdk.removeBucket();
      assert.equal(removed.filesDeleted, 1);
      assert.equal(removed.bucket, 'docs');
      assert.deepEqual(
        (await sdk.listFiles('keep')).files.map((f) => f.original),
        ['file'],
      );
      assert.equal((await sdk.getUsage()).data.usedQuota, 5);
    });

    it('replaces a file by key or URL, and keeps the new one if the old cannot be removed', async () => {
      const sdk = client();
      const old = await sdk.uploadFile(Buffer.from('old'), { bucket: 'avatars' });
      const byUrl = await sdk.replaceFile(Buffer.from('newer'), old.url);
      assert.equal(byUrl.file.bucket, 'avatars', "the old file's bucket");
      assert.deepEqual(byUrl.replaced, { bucket: 'avatars', key: old.file.key, removed: true });
      await rejectsWith(sdk.getFile(old.file.key, 'avatars'), 'FILE_NOT_FOUND', 404);

      const byKey = await sdk.replaceFile(Buffer.from('newest'), byUrl.file.key, { bucket: 'avatars' });
      assert.equal(byKey.replaced.removed, true);
      assert.deepEqual(
        (await sdk.listFiles('avatars')).files.map((f) => f.key),
        [byKey.file.key],
      );

      const kept = await sdk.replaceFile(Buffer.from('orphan'), 'not-a-key');
      assert.equal(kept.replaced.removed, false);
      assert.ok(!kept.replaced.removed && kept.replaced.error.code === 'BAD_REQUEST');
      assert.equal((await sdk.getFile(kept.file.key)).file.size, 6, 'the new file stays');
    });

    it('uploads and deletes in batches, one result per item in order, a bad item failing alone', async () => {
      const sdk = client();
      const results = await sdk.uploadMultipleFiles(
        [Buffer.from('a'), new Blob([]), Buffer.from('c'), new File([PNG_1X1], 'd.png')],
        { concurrency: 2, allowPublicAccess: false },
      );
      assert.deepEqual(
        results.map((r) => r.success),
        [true, false, true, true],
      );
      const failed = results[1]!;
      assert.ok(!failed.success && failed.error instanceof StowageError);
      assert.equal(failed.error.code, 'BAD_REQUEST', 'an empty file');
      const keys = results.flatMap((r) => (r.success ? [r.file.key] : []));
      assert.ok(results.every((r) => !r.success || !r.file.allowPublicAccess));

      const deleted = await sdk.deleteMultipleFiles([keys[0]!, 'not-a-key', keys[1]!, keys[2]!], 'docs');
      assert.deepEqual(
        deleted.map((d) => [d.key, d.success]),
        [
          [keys[0], true],
          ['not-a-key', false],
          [keys[1], true],
          [keys[2], true],
        ],
      );
      assert.ok(!deleted[1]!.success && (deleted[1]!.error as StowageError).code === 'BAD_REQUEST');
      assert.equal((await holdings(stack, tenant)).files, 0);
    });

    it('throws StowageError with code, status, message and request id, and does not retry a 4xx', async () => {
      const { fetch, sent } = recordingFetch();
      const error = await rejectsWith(
        client({ fetch, apiKey: 'stw_live_thisIsNotARealKeyAtAllButWellShaped00' }).getUsage(),
        'UNAUTHORIZED',
        401,
      );
      assert.ok(error.message.length > 0);
      assert.match(error.requestId ?? '', /\S/);
      assert.equal(sent.length, 1);
      await rejectsWith(client().listFiles('Not A Bucket'), 'BAD_REQUEST', 400);
    });

    it('sends its origin, for a tenant that allows only some', async () => {
      const own = await stack.createTenant({ allowedOrigins: ['https://app.example'] });
      const from = (origin: string) => new Stowage({ baseUrl: stack.url, apiKey: own.key, origin });
      assert.equal((await from('https://app.example').getUsage()).success, true);
      await rejectsWith(from('https://elsewhere.example').getUsage(), 'FORBIDDEN', 403);
    });

    it('aborts an upload on its signal, leaving nothing behind', async () => {
      const controller = new AbortController();
      let pulls = 0;
      const endless = new ReadableStream<Uint8Array>({
        pull(stream) {
          // Abort once the API has the first chunks, with the request under way.
          if (++pulls === 4) controller.abort();
          stream.enqueue(randomBytes(64 * 1024));
        },
      });
      const { fetch, sent } = recordingFetch();
      await rejectsWith(
        client({ fetch }).uploadFile(endless, { filename: 'endless.bin', signal: controller.signal }),
        'ABORTED',
        0,
      );
      assert.equal(sent.length, 0, 'the request never got an answer');
      await eventually(async () => {
        const held = await holdings(stack, tenant);
        return held.objects.length === 0 && held.reserved === 0 && held.files === 0 ? true : undefined;
      }, 'the aborted upload cleaned up');
    });
  });
}

describe('@stowage/sdk where the store has no direct uploads (embedded)', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await embeddedBackend.create();
  });
  after(() => stack.close());

  it('streams a large file in one request instead, and asks only once', async () => {
    const tenant = await stack.createTenant();
    const { fetch, sent } = recordingFetch();
    const sdk = new Stowage({ baseUrl: stack.url, apiKey: tenant.key, fetch, multipartThreshold: MiB });
    const bytes = randomBytes(2 * MiB);
    const first = await sdk.uploadFile(bytes, { bucket: 'big', filename: 'one.bin' });
    const second = await sdk.uploadFile(bytes, { bucket: 'big', filename: 'two.bin' });
    assert.deepEqual(
      sent.map((s) => `${s.method} ${s.url.pathname} ${s.status}`),
      ['POST /uploads/big 400', 'PUT /upload/big/one.bin 201', 'PUT /upload/big/two.bin 201'],
    );
    for (const upload of [first, second]) {
      assert.equal(sha256(await served(onStack(stack, upload.url))), sha256(bytes));
    }
  });
});
