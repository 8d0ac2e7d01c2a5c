import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { realBackend, embeddedBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { requireEnv } from '../support/env.ts';
import { call, upload } from '../support/http.ts';

// Clients reach the store by another name than the API does, as they would through an ingress.
const publicEndpoint = requireEnv('S3_ENDPOINT').replace('127.0.0.1', 'localhost');
const settings = { DOWNLOAD_REDIRECT_SIZE: '1Ki', S3_PUBLIC_ENDPOINT: publicEndpoint };
const large = 'x'.repeat(4096);

describe('downloads redirected to the store (DOWNLOAD_REDIRECT_SIZE)', () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  before(async () => {
    stack = await realBackend.create(settings);
    tenant = await stack.createTenant();
  });
  after(() => stack.close());

  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.url}${path}`, { redirect: 'manual', ...init });

  it('sends a large public file with a redirect to a presigned URL carrying our headers', async () => {
    const { body } = await upload(stack.url, 'big', large, { key: tenant.key, filename: 'big.txt' });
    const path = `/${tenant.id}/big/${body.file.key}`;
    let location = '';
    for (const method of ['GET', 'HEAD']) {
      const res = await get(path, { method });
      assert.equal(res.status, 307, method);
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      location = res.headers.get('location')!;
      assert.ok(location.startsWith(`${publicEndpoint}/`), method);
    }
    assert.equal(new URL(location).searchParams.get('X-Amz-Expires'), '300', 'valid for 5 minutes');
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.equal(await direct.text(), large);
    assert.equal(direct.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(direct.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const part = await fetch(location, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.equal(await part.text(), 'x'.repeat(10));
    // A redirect-following client gets the file from the API's URL as before.
    assert.equal(await (await fetch(`${stack.url}${path}`)).text(), large);
  });

  it('still streams files below the size, and active content whatever its size', async () => {
    const { body: small } = await upload(stack.url, 'big', 'tiny', { key: tenant.key });
    const res = await get(`/${tenant.id}/big/${small.file.key}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'tiny');

    const page = `<!DOCTYPE html><html><body>${large}</body></html>`;
    const { body: html } = await upload(stack.url, 'big', page, { key: tenant.key });
    assert.equal(html.file.mimetype, 'text/html');
    const served = await get(`/${tenant.id}/big/${html.file.key}`);
    assert.equal(served.status, 200);
    assert.match(served.headers.get('content-disposition') ?? '', /^attachment/);
    assert.equal(await served.text(), page);
  });

  it('authorises before redirecting a protected file: 404 for others, a private URL for its tenant', async () => {
    const bytes = randomBytes(8192);
    const { body } = await upload(stack.url, 'private', bytes, {
      key: tenant.key,
      fields: { allowPublicAccess: 'false' },
    });
    const path = `/${tenant.id}/private/${body.file.key}`;
    const other = await stack.createTenant();
    for (const headers of [{}, { 'x-api-key': other.key }] as Record<string, string>[]) {
      const res = await call(stack.url, path, { headers, redirect: 'manual' });
      assert.equal(res.status, 404);
      assert.equal(res.body.code, 'FILE_NOT_FOUND');
    }
    const res = await get(path, { headers: { 'x-api-key': await tenant.mintKey(['read']) } });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const direct = await fetch(res.headers.get('location')!);
    assert.equal(direct.headers.get('cache-control'), 'private, no-cache');
    assert.deepEqual(Buffer.from(await direct.arrayBuffer()), bytes);
    // The URL is for this object only: another key in the same bucket does not verify.
    const tampered = res.headers.get('location')!.replace(
      body.file.key,
      body.file.key.replace(/^./, (c: string) => (c === '0' ? '1' : '0')),
    );
    assert.equal((await fetch(tampered)).status, 403);
  });
});

describe('DOWNLOAD_REDIRECT_SIZE on the filesystem store', () => {
  it('streams every file, as there is no store to redirect to', async () => {
    const stack = await embeddedBackend.create(settings);
    try {
      const tenant = await stack.createTenant();
      const { body } = await upload(stack.url, 'big', large, { key: tenant.key });
      const res = await fetch(`${stack.url}/${tenant.id}/big/${body.file.key}`, { redirect: 'manual' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), large);
    } finally {
      await stack.close();
    }
  });
});
