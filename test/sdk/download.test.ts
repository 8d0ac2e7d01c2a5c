import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Stowage, type UploadProgress } from '@stowage/sdk';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { freePort } from '../../scripts/test-env/processes.ts';
import { recordingFetch, rejectsWith, sha256 } from './support.ts';

const read = async (body: ReadableStream<Uint8Array>) => Buffer.from(await new Response(body).arrayBuffer());

for (const backend of stackBackends) {
  describe(`@stowage/sdk downloads against ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    before(async () => {
      // File URLs on the API's own address, so that they serve.
      const port = await freePort();
      // Files over 1 KiB redirected to the store, where it has presigned URLs (not the embedded one).
      stack = await backend.create({
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DOWNLOAD_REDIRECT_SIZE: '1Ki',
      });
      tenant = await stack.createTenant();
    });
    after(() => stack.close());

    it('downloads by key through a signed URL, without sending the key there', async () => {
      const bytes = randomBytes(300 * 1024);
      const { fetch, sent } = recordingFetch();
      const headers: Record<string, string | null> = {};
      const watching: typeof fetch = (input, init) => {
        headers[String(input)] = new Headers(init?.headers).get('x-api-key');
        return fetch(input, init);
      };
      const sdk = new Stowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'dl', fetch: watching });
      const { file } = await sdk.uploadFile(bytes, { filename: 'big.bin', allowPublicAccess: false });
      const seen: UploadProgress[] = [];
      const got = await sdk.download(file.key, { onProgress: (p) => seen.push(p) });
      assert.equal(got.size, bytes.length);
      assert.equal(got.name, file.key);
      assert.equal(sha256(await read(got.body)), sha256(bytes));
      assert.deepEqual(seen.at(-1), { loaded: bytes.length, total: bytes.length });
      const signed = sent.find((s) => s.url.searchParams.has('signature'))!;
      assert.equal(headers[signed.url.href], null, 'no key with a signed URL');
    });

    it("downloads a protected file by its URL, the key sent to the API only, and fails as the API's error", async () => {
      const keyTo = new Set<string>();
      const watching: typeof fetch = (input, init) => {
        const url = new URL(String(input));
        if (new Headers(init?.headers).has('x-api-key')) keyTo.add(url.origin);
        return fetch(input, init);
      };
      const sdk = new Stowage({ baseUrl: stack.url, apiKey: tenant.key, bucket: 'dl', fetch: watching });
      const secret = randomBytes(4096);
      const { url } = await sdk.uploadFile(secret, { allowPublicAccess: false });
      assert.equal((await fetch(url)).status, 404, 'protected');
      const got = await sdk.download(url);
      assert.equal(sha256(await read(got.body)), sha256(secret));
      assert.equal(got.size, secret.length);
      assert.deepEqual([...keyTo], [new URL(stack.url).origin]);
      await rejectsWith(
        sdk.download(url.replace(/[^/]+$/, `${crypto.randomUUID()}.txt`)),
        'FILE_NOT_FOUND',
        404,
      );
    });
  });
}
