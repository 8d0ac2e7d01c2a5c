import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateApiKey, getUsage } from '@stowage/core';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

for (const backend of stackBackends) {
  describe(`REST API routes on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant();
    });
    after(() => stack.close());

    it('uploads an image with the documented response', async () => {
      const res = await upload(stack.url, 'profile', PNG_1X1, {
        key: tenant.key,
        filename: 'photo.png',
        type: 'image/jpeg',
      });
      assert.equal(res.status, 201);
      const { file } = res.body;
      assert.match(file.key, new RegExp(`^${UUID}\\.png$`));
      assert.deepEqual(res.body, {
        success: true,
        message: 'File uploaded successfully',
        url: `http://files.test/${tenant.id}/profile/${file.key}`,
        file: {
          id: file.key.slice(0, 36),
          key: file.key,
          bucket: 'profile',
          original: 'photo.png',
          mimetype: 'image/png', // from the bytes, not the claimed image/jpeg
          size: PNG_1X1.length,
          allowPublicAccess: true,
          mode: 'live',
          expiresAt: null,
        },
        variants: Object.fromEntries(
          ['large', 'small', 'thumb'].map((v) => [
            v,
            { url: `http://files.test/${tenant.id}/profile/${file.id}-${v}.webp`, status: 'pending' },
          ]),
        ),
      });
      assert.match(res.headers.get('x-request-id') ?? '', /\S/);
      const jobs = await stack.db.pool.query('SELECT dispatched_at FROM variant_jobs WHERE file_id = $1', [
        file.id,
      ]);
      assert.deepEqual(jobs.rows, [{ dispatched_at: null }], 'a durable variant job waits in the outbox');
    });

    it('uploads a protected non-image file without variants', async () => {
      const res = await upload(stack.url, 'docs', '%PDF-1.4\n%fake but magic\n', {
        key: tenant.key,
        filename: '../../etc/report.pdf',
        fields: { allowPublicAccess: 'false' },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.file.mimetype, 'application/pdf');
      assert.equal(res.body.file.original, 'report.pdf');
      assert.equal(res.body.file.allowPublicAccess, false);
      assert.equal(res.body.variants, undefined);
      const jobs = await stack.db.pool.query('SELECT 1 FROM variant_jobs WHERE file_id = $1', [
        res.body.file.id,
      ]);
      assert.equal(jobs.rowCount, 0);
    });

    it('takes a raw body with PUT, streamed with no multipart parsing', async () => {
      const pdf = Buffer.from('%PDF-1.7\n' + 'x'.repeat(100_000));
      const res = await call(stack.url, '/upload/raw/report.pdf?allowPublicAccess=false', {
        method: 'PUT',
        key: tenant.key,
        body: pdf,
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.message, 'File uploaded successfully');
      assert.equal(res.body.file.original, 'report.pdf');
      assert.equal(res.body.file.mimetype, 'application/pdf');
      assert.equal(res.body.file.size, pdf.length);
      assert.equal(res.body.file.allowPublicAccess, false);
      const served = await fetch(`${stack.url}/${tenant.id}/raw/${res.body.file.key}`, {
        headers: { 'x-api-key': tenant.key },
      });
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), pdf);
    });

    it('keeps UTF-8 file names from filename, filename* and the PUT path', async () => {
      const t = await stack.createTenant();
      const name = 'héllo wörld 日本語.pdf';
      const pdf = '%PDF-1.4\n';
      // What browsers and `curl -F "file=@r.pdf;filename=…"` send: the name's UTF-8 bytes as they are.
      const plain = await upload(stack.url, 'utf8', pdf, { key: t.key, filename: name });
      // RFC 5987, with a plain fallback for clients that do not read it.
      const boundary = 'utf8-boundary';
      const extended = await call(stack.url, '/upload/utf8', {
        method: 'POST',
        key: t.key,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="hello.pdf"; ` +
            `filename*=UTF-8''${encodeURIComponent(name)}\r\n\r\n${pdf}\r\n--${boundary}--\r\n`,
        ),
      });
      const put = await call(stack.url, `/upload/utf8/${encodeURIComponent(name)}`, {
        method: 'PUT',
        key: t.key,
        body: pdf,
      });
      for (const res of [plain, extended, put]) {
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.file.original, name);
      }
      const listed = await call(stack.url, '/files/utf8', { key: t.key });
      assert.deepEqual(
        listed.body.files.map((f: { original: string }) => f.original),
        [name, name, name],
      );
    });

    it('lists a bucket page by page', async () => {
      const t = await stack.createTenant();
      const keys: string[] = [];
      for (let i = 0; i < 5; i++)
        keys.push((await upload(stack.url, 'pages', `file ${i}`, { key: t.key })).body.file.key);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const res = await call(stack.url, `/files/pages${query}`, { key: t.key });
        assert.equal(res.status, 200);
        assert.equal(res.body.success, true);
        assert.equal(res.body.bucket, 'pages');
        seen.push(...res.body.files.map((f: { key: string }) => f.key));
        assert.equal(res.body.hasMore, res.body.nextCursor !== null);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      assert.equal(pages, 3);
      assert.deepEqual(seen, keys);

      const one = (await call(stack.url, '/files/pages?limit=1', { key: t.key })).body.files[0];
      assert.deepEqual(Object.keys(one).sort(), [
        'allowPublicAccess',
        'bucket',
        'createdAt',
        'expiresAt',
        'id',
        'key',
        'metadata',
        'mimetype',
        'mode',
        'original',
        'size',
        'tags',
        'updatedAt',
        'url',
      ]);
      assert.equal(one.mimetype, 'text/plain');
      for (const bad of ['?limit=0', '?limit=1001', '?limit=x', '?cursor=bm9wZQ']) {
        const res = await call(stack.url, `/files/pages${bad}`, { key: t.key });
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.code, 'BAD_REQUEST');
      }
    });

    it("returns one file's metadata", async () => {
      const { body } = await upload(stack.url, 'meta', PNG_1X1, { key: tenant.key });
      const res = await call(stack.url, `/files/meta/${body.file.key}`, { key: tenant.key });
      assert.equal(res.status, 200);
      assert.equal(res.body.file.id, body.file.id);
      assert.equal(res.body.file.variantStatus, 'pending');
      assert.equal(res.body.file.variants.thumb.status, 'pending');
      const otherId = (body.file.id.startsWith('0') ? '1' : '0') + body.file.id.slice(1);
      const missing = await call(stack.url, `/files/meta/${otherId}.png`, { key: tenant.key });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'FILE_NOT_FOUND');
    });

    it('serves public files to anyone, with caching and range support', async () => {
      const content = 'The quick brown fox jumps over the lazy dog';
      const { body } = await upload(stack.url, 'public', content, { key: tenant.key });
      const path = `/${tenant.id}/public/${body.file.key}`;
      const res = await fetch(`${stack.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), content);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      const etag = res.headers.get('etag')!;
      assert.match(etag, /^"/);
      assert.ok(res.headers.get('last-modified'));

      const cached = await fetch(`${stack.url}${path}`, { headers: { 'if-none-match': etag } });
      assert.equal(cached.status, 304);
      assert.equal(await cached.text(), '');

      const part = await fetch(`${stack.url}${path}`, { headers: { range: 'bytes=4-8' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 4-8/${content.length}`);
      assert.equal(await part.text(), 'quick');
      const tail = await fetch(`${stack.url}${path}`, { headers: { range: 'bytes=-3' } });
      assert.equal(await tail.text(), 'dog');
      const beyond = await fetch(`${stack.url}${path}`, { headers: { range: 'bytes=1000-' } });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), `bytes */${content.length}`);

      const head = await fetch(`${stack.url}${path}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(content.length));
      assert.equal(await head.text(), '');
    });

    it('keeps small files in memory once served, and serves them from there', async () => {
      const { body } = await upload(stack.url, 'memory', 'remember me', { key: tenant.key });
      const path = `${stack.url}/${tenant.id}/memory/${body.file.key}`;
      assert.equal(await (await fetch(path)).text(), 'remember me');
      // Gone from the store behind the API's back: only a copy in memory can still answer.
      await stack.store.delete({ bucket: tenant.storageBucket, keys: [`memory/${body.file.key}`] });
      for (const method of ['GET', 'HEAD']) assert.equal((await fetch(path, { method })).status, 200, method);
      assert.equal(await (await fetch(path)).text(), 'remember me');
      const part = await fetch(path, { headers: { range: 'bytes=9-10' } });
      assert.equal(await part.text(), 'me');
    });

    it('answers GET and HEAD alike when a row has lost its object', async () => {
      const { body } = await upload(stack.url, 'lost', 'soon gone', { key: tenant.key });
      await stack.store.delete({ bucket: tenant.storageBucket, keys: [`lost/${body.file.key}`] });
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${stack.url}/${tenant.id}/lost/${body.file.key}`, { method });
        assert.equal(res.status, 404, method);
        assert.equal(res.headers.get('cache-control'), null, `${method}: nothing cacheable about a 404`);
      }
    });

    it('serves protected files only to keys of their tenant, 404 to everyone else', async () => {
      const { body } = await upload(stack.url, 'private', 'secret stuff', {
        key: tenant.key,
        fields: { allowPublicAccess: 'false' },
      });
      const path = `/${tenant.id}/private/${body.file.key}`;
      const other = await stack.createTenant();
      const readOnly = await tenant.mintKey(['read']);
      const attempts: Record<string, string>[] = [
        {},
        { 'x-api-key': other.key },
        { authorization: 'Bearer nonsense' },
      ];
      for (const headers of attempts) {
        const res = await call(stack.url, path, { headers });
        assert.equal(res.status, 404);
        assert.equal(res.body.code, 'FILE_NOT_FOUND');
      }
      const ok = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${readOnly}` } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('cache-control'), 'private, no-cache');
      assert.equal(await ok.text(), 'secret stuff');
    });

    it('signs URLs that serve a protected file without a key until they expire', async () => {
      const { body } = await upload(stack.url, 'signed', 'for your eyes only', {
        key: tenant.key,
        fields: { allowPublicAccess: 'false' },
      });
      const sign = (json: Record<string, unknown>) =>
        call(stack.url, '/files/signed-url', {
          method: 'POST',
          key: tenant.key,
          json: { bucket: 'signed', ...json },
        });
      const signedFrom = Date.now();
      const res = await sign({ key: body.file.key, expiresIn: 600 });
      const signedBy = Date.now();
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      const url = new URL(res.body.url);
      assert.equal(url.origin, 'http://files.test');
      assert.equal(url.pathname, `/${tenant.id}/signed/${body.file.key}`);
      const expiresAt = Date.parse(res.body.expiresAt);
      // At least the 600 s asked for, and less than a second more (`expires` is in whole seconds).
      assert.ok(expiresAt >= signedFrom + 600_000 && expiresAt < signedBy + 601_000, res.body.expiresAt);
      const local = (u: URL) => `${stack.url}${u.pathname}${u.search}`;
      const served = await fetch(local(url));
      assert.equal(served.status, 200);
      assert.equal(await served.text(), 'for your eyes only');

      const tampered = new URL(url);
      const signature = tampered.searchParams.get('signature')!;
      tampered.searchParams.set('signature', (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1));
      assert.equal((await fetch(local(tampered))).status, 404);
      const extended = new URL(url);
      extended.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
      assert.equal((await fetch(local(extended))).status, 404);
      const other = await upload(stack.url, 'signed', 'another', {
        key: tenant.key,
        fields: { allowPublicAccess: 'false' },
      });
      assert.equal(
        (await fetch(`${stack.url}/${tenant.id}/signed/${other.body.file.key}${url.search}`)).status,
        404,
      );

      const brief = new URL((await sign({ key: body.file.key, expiresIn: 1 })).body.url);
      assert.equal((await fetch(local(brief))).status, 200);
      await eventually(
        async () => ((await fetch(local(brief))).status === 404 ? true : undefined),
        'the URL to expire',
      );

      for (const expiresIn of [0, -5, 1.5, '60', 8 * 24 * 3600]) {
        assert.equal((await sign({ key: body.file.key, expiresIn })).status, 400, String(expiresIn));
      }
      const missingId = (other.body.file.id.startsWith('0') ? '1' : '0') + other.body.file.key.slice(1);
      assert.equal((await sign({ key: missingId })).status, 404);
    });

    it('serves a signed URL only as it was minted', async () => {
      const { body } = await upload(stack.url, 'signed', 'exactly this', {
        key: tenant.key,
        fields: { allowPublicAccess: 'false' },
      });
      const signed = await call(stack.url, '/files/signed-url', {
        method: 'POST',
        key: tenant.key,
        json: { bucket: 'signed', key: body.file.key },
      });
      const url = new URL(signed.body.url);
      const expires = url.searchParams.get('expires')!;
      const signature = url.searchParams.get('signature')!;
      const served = (query: string) => fetch(`${stack.url}${url.pathname}?${query}`);
      const genuine = await served(`expires=${expires}&signature=${signature}`);
      assert.equal(genuine.status, 200);
      assert.equal(await genuine.text(), 'exactly this');
      for (const query of [
        `expires=${expires}&signature=${signature}junk`,
        `expires=${expires}&signature=${signature}%21`,
        `expires=${expires}&signature=${signature}=`,
        `expires=${expires}&signature=${signature.slice(0, 20)}.${signature.slice(20)}`,
        `expires=0${expires}&signature=${signature}`,
        `expires=${expires}&expires=${expires}&signature=${signature}`,
        `expires=${expires}&signature=${signature}&signature=${signature}`,
      ]) {
        assert.equal((await served(query)).status, 404, query);
      }
    });

    it('serves active content as an attachment in a sandbox', async () => {
      const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
      const { body } = await upload(stack.url, 'svg', svg, { key: tenant.key, filename: 'x.png' });
      assert.equal(body.file.mimetype, 'image/svg+xml');
      assert.equal(body.variants, undefined, 'SVG is not rasterised unless configured');
      assert.match(body.file.key, /\.svg$/);
      const res = await fetch(`${stack.url}/${tenant.id}/svg/${body.file.key}`);
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment/);
      assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
      const html = await upload(stack.url, 'svg', '<!DOCTYPE html><html><body>hi</body></html>', {
        key: tenant.key,
      });
      assert.equal(html.body.file.mimetype, 'text/html');
      const page = await fetch(`${stack.url}/${tenant.id}/svg/${html.body.file.key}`);
      assert.match(page.headers.get('content-disposition') ?? '', /^attachment/);
    });

    it('serves text named as a script or a page as an attachment in a sandbox', async () => {
      const script = 'document.body.innerHTML = "<b>owned</b>";\n';
      const cases = [
        { via: 'POST', filename: 'app.js', content: script, mimetype: 'text/javascript' },
        { via: 'PUT', filename: 'module.mjs', content: script, mimetype: 'text/javascript' },
        { via: 'POST', filename: 'fragment.html', content: '<p onclick="x()">hi</p>', mimetype: 'text/html' },
      ];
      for (const { via, filename, content, mimetype } of cases) {
        const res =
          via === 'POST'
            ? await upload(stack.url, 'scripts', content, { key: tenant.key, filename })
            : await call(stack.url, `/upload/scripts/${filename}`, {
                method: 'PUT',
                key: tenant.key,
                body: content,
              });
        assert.equal(res.body.file.mimetype, mimetype, filename);
        const served = await fetch(`${stack.url}/${tenant.id}/scripts/${res.body.file.key}`);
        assert.equal(served.headers.get('content-type'), `${mimetype}; charset=utf-8`, filename);
        assert.match(served.headers.get('content-disposition') ?? '', /^attachment/, filename);
        assert.match(served.headers.get('content-security-policy') ?? '', /sandbox/, filename);
        assert.equal(await served.text(), content);
      }
      // The name only ever makes a type stricter: plain text stays plain, whatever it is called.
      const named = await upload(stack.url, 'scripts', PNG_1X1, { key: tenant.key, filename: 'x.js' });
      assert.equal(named.body.file.mimetype, 'image/png');
      const prose = await upload(stack.url, 'scripts', script, { key: tenant.key, filename: 'notes.txt' });
      assert.equal(prose.body.file.mimetype, 'text/plain');
    });

    it('documents serving for GET and HEAD, with what each status carries', async () => {
      const { body } = await call(stack.url, '/openapi.json');
      const serving = body.paths['/{tenantId}/{bucket}/{filename}'];
      for (const method of ['get', 'head']) {
        const { responses, parameters, security } = serving[method];
        assert.deepEqual(security, [], `${method}: no key needed for public files`);
        assert.deepEqual(
          parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required]),
          [
            ['tenantId', 'path', true],
            ['bucket', 'path', true],
            ['filename', 'path', true],
            ['expires', 'query', false],
            ['signature', 'query', false],
          ],
        );
        assert.deepEqual(Object.keys(responses), ['200', '206', '304', '307', 'default'], method);
        assert.ok(responses['206'].headers['content-range'], method);
        assert.ok(responses['307'].headers.location, method);
      }
      assert.ok(serving.get.responses['200'].content['*/*']);
      assert.equal(serving.head.responses['200'].content, undefined, 'HEAD has no body');
    });

    it('answers a pending variant with 503 and Retry-After', async () => {
      const { body } = await upload(stack.url, 'pending', PNG_1X1, { key: tenant.key });
      const res = await call(stack.url, `/${tenant.id}/pending/${body.file.id}-thumb.webp`);
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    });

    it('deletes a file idempotently and gives its bytes back', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'trash', 'to be deleted', { key: t.key });
      assert.equal((await getUsage(stack.db.pool, t.id))?.usedBytes, 13);
      // Served once, so the API keeps it in memory: the delete must still win.
      assert.equal((await call(stack.url, `/${t.id}/trash/${body.file.key}`)).status, 200);
      for (let i = 0; i < 2; i++) {
        const res = await call(stack.url, '/files/delete', {
          method: 'POST',
          key: t.key,
          json: { bucket: 'trash', key: body.file.key },
        });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, {
          success: true,
          message: 'File deleted successfully',
          key: body.file.key,
        });
      }
      assert.equal((await call(stack.url, `/${t.id}/trash/${body.file.key}`)).status, 404);
      assert.deepEqual(await getUsage(stack.db.pool, t.id), {
        quotaBytes: 10 * 2 ** 30,
        usedBytes: 0,
        reservedBytes: 0,
        fileCount: 0,
      });
      assert.equal(
        await stack.store.head({ bucket: t.storageBucket, key: `trash/${body.file.key}` }),
        undefined,
      );
    });

    it('deletes a bucket with an admin key only', async () => {
      const t = await stack.createTenant();
      for (let i = 0; i < 3; i++) await upload(stack.url, 'old', `file ${i}`, { key: t.key });
      await upload(stack.url, 'keep', 'stays', { key: t.key });
      const writer = await t.mintKey(['write']);
      const denied = await call(stack.url, '/files/delete-bucket', {
        method: 'POST',
        key: writer,
        json: { bucket: 'old' },
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'FORBIDDEN');

      const res = await call(stack.url, '/files/delete-bucket', {
        method: 'POST',
        key: t.key,
        json: { bucket: 'old' },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        success: true,
        message: 'Bucket deleted successfully',
        bucket: 'old',
        filesDeleted: 3,
      });
      assert.equal((await call(stack.url, '/files/old', { key: t.key })).status, 404, 'the bucket is gone');
      assert.equal((await call(stack.url, '/files/keep', { key: t.key })).body.files.length, 1);
      const usage = await getUsage(stack.db.pool, t.id);
      assert.deepEqual([usage?.usedBytes, usage?.fileCount], [5, 1]);
    });

    it('answers 404 for a bucket that does not exist', async () => {
      const t = await stack.createTenant();
      const list = (bucket: string) => call(stack.url, `/files/${bucket}`, { key: t.key });
      const deleteBucket = (bucket: string) =>
        call(stack.url, '/files/delete-bucket', { method: 'POST', key: t.key, json: { bucket } });
      const notFound = { success: false, code: 'FILE_NOT_FOUND', message: 'File or bucket not found' };
      for (const res of [await list('never-used'), await deleteBucket('never-used')]) {
        assert.equal(res.status, 404);
        const { requestId, ...rest } = res.body;
        assert.deepEqual(rest, notFound);
        assert.equal(requestId, res.headers.get('x-request-id'));
      }
      assert.equal(
        (await call(stack.url, `/files/never-used/${randomUUID()}.txt`, { key: t.key })).status,
        404,
      );

      // Emptied file by file, a bucket still exists: only deleting the bucket ends it.
      const { body } = await upload(stack.url, 'emptied', 'one', { key: t.key });
      await call(stack.url, '/files/delete', {
        method: 'POST',
        key: t.key,
        json: { bucket: 'emptied', key: body.file.key },
      });
      assert.deepEqual((await list('emptied')).body.files, []);
      assert.equal((await deleteBucket('emptied')).body.filesDeleted, 0);
      assert.equal((await list('emptied')).status, 404);
      assert.equal((await deleteBucket('emptied')).status, 404, 'a deleted bucket is gone');
      assert.equal((await upload(stack.url, 'emptied', 'again', { key: t.key })).status, 201);
      assert.equal((await list('emptied')).body.files.length, 1, 'an upload makes it again');
    });

    it('keeps a declared bucket, with its settings, when it is deleted', async () => {
      const t = await stack.createTenant({ buckets: [{ name: 'declared', public: false }] });
      const list = () => call(stack.url, '/files/declared', { key: t.key });
      const deleteBucket = () =>
        call(stack.url, '/files/delete-bucket', { method: 'POST', key: t.key, json: { bucket: 'declared' } });
      const empty = await list();
      assert.equal(empty.status, 200, 'declared, it exists before any upload');
      assert.deepEqual(empty.body.files, []);
      for (let i = 0; i < 2; i++) await upload(stack.url, 'declared', `file ${i}`, { key: t.key });
      assert.equal((await deleteBucket()).body.filesDeleted, 2);
      assert.deepEqual((await list()).body.files, []);
      const again = await deleteBucket();
      assert.equal(again.status, 200);
      assert.equal(again.body.filesDeleted, 0);
      const res = await upload(stack.url, 'declared', 'after', { key: t.key });
      assert.equal(res.body.file.allowPublicAccess, false, "the declaration's default still applies");
    });

    it('reports usage in bytes', async () => {
      const t = await stack.createTenant({ quota: { storage: 1000 } });
      await upload(stack.url, 'u', 'x'.repeat(250), { key: t.key });
      const res = await call(stack.url, '/usage', { key: t.key });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        success: true,
        data: {
          mode: 'live',
          totalQuota: 1000,
          usedQuota: 250,
          remainingQuota: 750,
          percentUsed: 25,
          fileCount: 1,
        },
      });
    });

    it('gives every key problem the same 401, and scope problems 403', async () => {
      const revoked = await tenant.mintKey(['read']);
      await stack.db.pool.query('UPDATE api_keys SET revoked_at = now() WHERE prefix = $1', [
        revoked.slice(0, 13),
      ]);
      const wellFormedUnknown = generateApiKey('live').raw; // a valid shape and checksum, never stored
      const bodies = [];
      const attempts: Record<string, string>[] = [
        {},
        { 'x-api-key': 'garbage' },
        { 'x-api-key': wellFormedUnknown },
        { authorization: `Bearer ${revoked}` },
        { authorization: 'Basic abc' },
      ];
      for (const headers of attempts) {
        const res = await call(stack.url, '/usage', { headers });
        assert.equal(res.status, 401);
        const { requestId, ...rest } = res.body;
        assert.equal(requestId, res.headers.get('x-request-id'));
        bodies.push(rest);
      }
      assert.equal(new Set(bodies.map((b) => JSON.stringify(b))).size, 1, 'indistinguishable');
      assert.deepEqual(bodies[0], {
        success: false,
        code: 'UNAUTHORIZED',
        message: 'Invalid or missing API key',
      });

      const bearer = await call(stack.url, '/usage', { headers: { authorization: `Bearer ${tenant.key}` } });
      assert.equal(bearer.status, 200);
      const reader = await tenant.mintKey(['read']);
      const res = await upload(stack.url, 'x', 'data', { key: reader });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'FORBIDDEN');
    });

    it('refuses a disallowed Origin with 403', async () => {
      const t = await stack.createTenant({ allowedOrigins: ['https://app.example.com'] });
      const allowed = await call(stack.url, '/usage', {
        key: t.key,
        headers: { origin: 'https://app.example.com' },
      });
      assert.equal(allowed.status, 200);
      const denied = await call(stack.url, '/usage', {
        key: t.key,
        headers: { origin: 'https://evil.example.com' },
      });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'FORBIDDEN');
      const noOrigin = await call(stack.url, '/usage', { key: t.key });
      assert.equal(noOrigin.status, 200, 'server-to-server calls carry no Origin');
    });

    it('keeps tenants apart', async () => {
      const a = await stack.createTenant();
      const b = await stack.createTenant();
      const { body } = await upload(stack.url, 'shared', 'of tenant b', {
        key: b.key,
        fields: { allowPublicAccess: 'false' },
      });
      assert.equal((await call(stack.url, '/files/shared', { key: a.key })).status, 404);
      assert.equal((await call(stack.url, `/files/shared/${body.file.key}`, { key: a.key })).status, 404);
      assert.equal((await call(stack.url, `/${b.id}/shared/${body.file.key}`, { key: a.key })).status, 404);
      await call(stack.url, '/files/delete', {
        method: 'POST',
        key: a.key,
        json: { bucket: 'shared', key: body.file.key },
      });
      await call(stack.url, '/files/delete-bucket', {
        method: 'POST',
        key: a.key,
        json: { bucket: 'shared' },
      });
      const still = await call(stack.url, `/files/shared/${body.file.key}`, { key: b.key });
      assert.equal(still.status, 200, "a's deletes touched nothing of b's");
      assert.equal((await getUsage(stack.db.pool, b.id))?.fileCount, 1);
      assert.equal((await call(stack.url, '/usage', { key: a.key })).body.data.usedQuota, 0);
    });
  });
}
