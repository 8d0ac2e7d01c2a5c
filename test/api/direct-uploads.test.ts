import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { getUsage } from '@stowage/core';
import { sweepOnce } from '@stowage/api';
import { realBackend, embeddedBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call } from '../support/http.ts';
import { startOwnServers, type OwnServers } from '../support/own-servers.ts';
import { eventually } from '../support/poll.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('direct-to-S3 multipart uploads', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await realBackend.create();
  });
  after(() => stack.close());

  const start = (
    tenant: TestTenant,
    size: number,
    filename = 'movie.bin',
    extra: Record<string, unknown> = {},
  ) =>
    call(stack.url, '/uploads/videos', {
      method: 'POST',
      key: tenant.key,
      json: { filename, size, ...extra },
    });
  const sign = async (tenant: TestTenant, id: string, partNumbers: number[]) =>
    (
      await call(stack.url, `/uploads/${id}/parts`, {
        method: 'POST',
        key: tenant.key,
        json: { partNumbers },
      })
    ).body.parts as { partNumber: number; url: string }[];
  /** PUTs bytes straight to MinIO with a presigned URL, the way a browser would. */
  const putPart = async (url: string, bytes: Buffer) => {
    const res = await fetch(url, { method: 'PUT', body: bytes });
    assert.equal(res.status, 200, await res.text());
    return res.headers.get('etag')!;
  };
  const complete = (tenant: TestTenant, id: string, parts?: { partNumber: number; etag: string }[]) =>
    call(stack.url, `/uploads/${id}/complete`, {
      method: 'POST',
      key: tenant.key,
      json: parts ? { parts } : {},
    });

  async function assertNothingLeft(tenant: TestTenant) {
    const usage = (await getUsage(stack.db.pool, tenant.id))!;
    assert.deepEqual([usage.usedBytes, usage.reservedBytes, usage.fileCount], [0, 0, 0]);
    assert.deepEqual(await stack.storedObjects(tenant.storageBucket), []);
    const rows = await stack.db.pool.query('SELECT 1 FROM direct_uploads WHERE tenant_id = $1', [tenant.id]);
    assert.equal(rows.rowCount, 0);
  }

  it('uploads three parts straight to S3, completes, and serves the file', async () => {
    const tenant = await stack.createTenant();
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(11 * MiB)]);
    const created = await start(tenant, file.length, 'big report.pdf', { allowPublicAccess: false });
    assert.equal(created.status, 201);
    const { uploadId, partSize, partCount, key } = created.body;
    assert.equal(partSize, 5 * MiB);
    assert.equal(partCount, 3);
    assert.match(key, /^[0-9a-f-]{36}\.pdf$/);
    assert.equal(
      (await getUsage(stack.db.pool, tenant.id))?.reservedBytes,
      file.length,
      'quota reserved at create',
    );

    const urls = await sign(tenant, uploadId, [1, 2, 3]);
    assert.ok(
      urls.every((u) => u.url.startsWith(process.env.S3_ENDPOINT!)),
      'parts go to S3, not through the API',
    );
    const parts = [];
    for (const { partNumber, url } of urls) {
      parts.push({
        partNumber,
        etag: await putPart(url, file.subarray((partNumber - 1) * partSize, partNumber * partSize)),
      });
    }
    const done = await complete(tenant, uploadId, parts);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal(done.body.file.key, key);
    assert.equal(done.body.file.mimetype, 'application/pdf');
    assert.equal(done.body.file.original, 'big report.pdf');
    assert.equal(done.body.file.size, file.length);
    assert.equal(done.body.file.allowPublicAccess, false);

    const served = await fetch(`${stack.url}/${tenant.id}/videos/${key}`, {
      headers: { 'x-api-key': tenant.key },
    });
    assert.equal(sha256(Buffer.from(await served.arrayBuffer())), sha256(file));
    const usage = (await getUsage(stack.db.pool, tenant.id))!;
    assert.deepEqual([usage.usedBytes, usage.reservedBytes, usage.fileCount], [file.length, 0, 1]);
    assert.equal((await complete(tenant, uploadId)).status, 404, 'a finished upload is gone');
  });

  it("keeps a test key's direct upload in the sandbox, with the lifetime it asks for", async () => {
    const tenant = await stack.createTenant({ quota: { testStorage: 6 * MiB } });
    const tester = { ...tenant, key: await tenant.mintKey(['read', 'write'], { mode: 'test' }) };
    const over = await start(tester, 7 * MiB);
    assert.deepEqual([over.status, over.body.message], [403, 'Test storage quota exceeded']);
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(1000)]);
    const created = await start(tester, file.length, 'r.pdf', { expiresIn: 60 });
    assert.equal(created.status, 201);
    const { uploadId, key } = created.body;
    assert.equal((await getUsage(stack.db.pool, tenant.id, 'test'))?.reservedBytes, file.length);
    assert.equal((await getUsage(stack.db.pool, tenant.id))?.reservedBytes, 0, 'the live quota is untouched');
    for (const [action, json] of [
      ['parts', { partNumbers: [1] }],
      ['complete', {}],
      ['abort', {}],
    ] as const) {
      const res = await call(stack.url, `/uploads/${uploadId}/${action}`, {
        method: 'POST',
        key: tenant.key,
        json,
      });
      assert.equal(res.status, 404, `a live key cannot ${action} it`);
    }

    const [part] = await sign(tester, uploadId, [1]);
    await putPart(part!.url, file);
    const done = await complete(tester, uploadId);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal(done.body.file.mode, 'test');
    const meta = (await call(stack.url, `/files/videos/${key}`, { key: tester.key })).body.file;
    assert.equal(Date.parse(meta.expiresAt) - Date.parse(meta.createdAt), 60_000);
    assert.equal((await call(stack.url, `/files/videos/${key}`, { key: tenant.key })).status, 404);
    const usage = (await getUsage(stack.db.pool, tenant.id, 'test'))!;
    assert.deepEqual([usage.usedBytes, usage.reservedBytes, usage.fileCount], [file.length, 0, 1]);
    assert.equal((await getUsage(stack.db.pool, tenant.id))?.fileCount, 0);
  });

  it('serves a script sent directly as one, in an attachment', async () => {
    const tenant = await stack.createTenant();
    const script = Buffer.from('document.title = "ran";\n');
    const { uploadId, key } = (await start(tenant, script.length, 'app.js')).body;
    const [part] = await sign(tenant, uploadId, [1]);
    await putPart(part!.url, script);
    const done = await complete(tenant, uploadId);
    assert.equal(done.status, 201, JSON.stringify(done.body));
    assert.equal(done.body.file.mimetype, 'text/javascript');
    const served = await fetch(`${stack.url}/${tenant.id}/videos/${key}`);
    assert.match(served.headers.get('content-disposition') ?? '', /^attachment/);
    assert.match(served.headers.get('content-security-policy') ?? '', /sandbox/);
  });

  for (const { name, declared, send } of [
    { name: 'overstates its size', declared: 12 * MiB, send: [5 * MiB, 5 * MiB, 1 * MiB] },
    { name: 'understates its size', declared: 11 * MiB, send: [5 * MiB, 5 * MiB, 2 * MiB] },
    { name: 'lacks a part', declared: 11 * MiB, send: [5 * MiB, 0, 1 * MiB] },
    { name: 'has a short middle part', declared: 11 * MiB, send: [5 * MiB, 4 * MiB, 2 * MiB] },
  ]) {
    it(`rejects an upload that ${name}, and leaves nothing behind`, async () => {
      const tenant = await stack.createTenant();
      const { uploadId } = (await start(tenant, declared)).body;
      const { body } = await call(stack.url, `/uploads/${uploadId}/parts`, {
        method: 'POST',
        key: tenant.key,
        json: { partNumbers: [1, 2, 3] },
      });
      for (const [i, size] of send.entries()) {
        if (size === 0) continue;
        const expected = i < 2 ? 5 * MiB : declared - 10 * MiB;
        const res = await fetch(body.parts[i].url, { method: 'PUT', body: randomBytes(size) });
        // The part URL is signed for the part's exact size: S3 itself refuses any other.
        assert.equal(res.status, size === expected ? 200 : 403);
      }
      const res = await complete(tenant, uploadId);
      assert.equal(res.status, 400);
      assert.equal(res.body.code, 'BAD_REQUEST');
      assert.match(res.body.message, /^Upload rejected/);
      await assertNothingLeft(tenant);
    });
  }

  it('completes once when two completes race, and keeps the file', async () => {
    const tenant = await stack.createTenant();
    const file = randomBytes(6 * MiB);
    const { uploadId } = (await start(tenant, file.length)).body;
    const [one, two] = await sign(tenant, uploadId, [1, 2]);
    await putPart(one!.url, file.subarray(0, 5 * MiB));
    await putPart(two!.url, file.subarray(5 * MiB));
    const results = await Promise.all([complete(tenant, uploadId), complete(tenant, uploadId)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 404]);
    const done = results.find((r) => r.status === 201)!;
    const served = await fetch(`${stack.url}/${tenant.id}/videos/${done.body.file.key}`);
    assert.equal(sha256(Buffer.from(await served.arrayBuffer())), sha256(file));
    const usage = (await getUsage(stack.db.pool, tenant.id))!;
    assert.deepEqual([usage.usedBytes, usage.reservedBytes, usage.fileCount], [file.length, 0, 1]);
  });

  it('rejects ETags that do not match the stored parts', async () => {
    const tenant = await stack.createTenant();
    const { uploadId } = (await start(tenant, 6 * MiB)).body;
    const [one, two] = await sign(tenant, uploadId, [1, 2]);
    const etag = await putPart(one!.url, randomBytes(5 * MiB));
    await putPart(two!.url, randomBytes(1 * MiB));
    const res = await complete(tenant, uploadId, [
      { partNumber: 1, etag },
      { partNumber: 2, etag: '"0123456789abcdef0123456789abcdef"' },
    ]);
    assert.equal(res.status, 400);
    await assertNothingLeft(tenant);
  });

  it('aborts on request and releases the quota', async () => {
    const tenant = await stack.createTenant();
    const { uploadId } = (await start(tenant, 8 * MiB)).body;
    const [one] = await sign(tenant, uploadId, [1]);
    await putPart(one!.url, randomBytes(5 * MiB));
    const res = await call(stack.url, `/uploads/${uploadId}/abort`, { method: 'POST', key: tenant.key });
    assert.deepEqual(res.body, { success: true, message: 'Upload aborted' });
    await assertNothingLeft(tenant);
    const after = await call(stack.url, `/uploads/${uploadId}/parts`, {
      method: 'POST',
      key: tenant.key,
      json: { partNumbers: [1] },
    });
    assert.equal(after.status, 404, 'an aborted upload is gone');
  });

  it('lets the sweeper abort an abandoned upload', async () => {
    const tenant = await stack.createTenant();
    const { uploadId } = (await start(tenant, 8 * MiB)).body;
    const [one] = await sign(tenant, uploadId, [1]);
    await putPart(one!.url, randomBytes(5 * MiB));
    // Abandoned: its lifetime is over.
    await stack.db.pool.query(
      "UPDATE quota_reservations SET expires_at = now() - interval '1 second' WHERE tenant_id = $1",
      [tenant.id],
    );
    await sweepOnce(stack.deps);
    await assertNothingLeft(tenant);
  });

  it('refuses what it cannot honour: quota, size limit, bad part numbers, other tenants', async () => {
    const tenant = await stack.createTenant({ quota: { storage: '20Mi', maxFileSize: '15Mi' } });
    assert.equal((await start(tenant, 16 * MiB)).body.code, 'PAYLOAD_TOO_LARGE');
    const { uploadId } = (await start(tenant, 12 * MiB)).body;
    assert.equal(
      (await start(tenant, 9 * MiB)).body.code,
      'QUOTA_EXCEEDED',
      'the first upload holds 12 of 20 MiB',
    );
    for (const partNumbers of [[0], [4], [1.5], []]) {
      const res = await call(stack.url, `/uploads/${uploadId}/parts`, {
        method: 'POST',
        key: tenant.key,
        json: { partNumbers },
      });
      assert.equal(res.status, 400, JSON.stringify(partNumbers));
    }
    for (const json of [
      { size: 10 },
      { filename: 'x', size: 0 },
      { filename: 'x', size: -1 },
      { filename: 'x', size: '10' },
    ]) {
      assert.equal(
        (await call(stack.url, '/uploads/videos', { method: 'POST', key: tenant.key, json })).status,
        400,
      );
    }
    const other = await stack.createTenant();
    for (const path of [`/uploads/${uploadId}/complete`, `/uploads/${uploadId}/abort`]) {
      assert.equal((await call(stack.url, path, { method: 'POST', key: other.key, json: {} })).status, 404);
    }
    // A well-formed id that was never handed out is unknown, not invalid.
    for (const [action, json] of [
      ['parts', { partNumbers: [1] }],
      ['complete', {}],
      ['abort', undefined],
    ] as const) {
      const res = await call(stack.url, `/uploads/${randomUUID()}/${action}`, {
        method: 'POST',
        key: tenant.key,
        json,
      });
      assert.equal(res.status, 404, action);
      assert.equal(res.body.code, 'FILE_NOT_FOUND');
    }
    await call(stack.url, `/uploads/${uploadId}/abort`, { method: 'POST', key: tenant.key });
  });
});

describe('direct uploads while the store is down', () => {
  let own: OwnServers<'minio'>;
  let stack: ApiStack;
  before(async () => {
    own = await startOwnServers(['minio']);
    stack = await realBackend.create({ ...own.settings, UPLOAD_RESERVATION_TTL_SECONDS: '5' });
  });
  after(async () => {
    await stack?.close();
    await own?.close();
  });

  it('gives the quota of a failed completion to the sweeper within seconds, which removes the part', async () => {
    const tenant = await stack.createTenant();
    const started = await call(stack.url, '/uploads/videos', {
      method: 'POST',
      key: tenant.key,
      json: { filename: 'a.bin', size: 5 },
    });
    const { uploadId } = started.body;
    const [part] = (
      await call(stack.url, `/uploads/${uploadId}/parts`, {
        method: 'POST',
        key: tenant.key,
        json: { partNumbers: [1] },
      })
    ).body.parts;
    assert.equal((await fetch(part.url, { method: 'PUT', body: 'hello' })).status, 200);
    await own.servers.minio.kill();
    const completed = await call(stack.url, `/uploads/${uploadId}/complete`, {
      method: 'POST',
      key: tenant.key,
      json: {},
    });
    assert.equal(completed.body.code, 'SERVICE_UNAVAILABLE');
    // Claimed, so it can be neither completed nor aborted again: its reservation must not outlive the
    // writer's lifetime, or the quota stays taken (and the part stored) for a day.
    const { rows } = await stack.db.pool.query<{ seconds: number }>(
      'SELECT extract(epoch FROM expires_at - now())::float8 AS seconds FROM quota_reservations WHERE tenant_id = $1',
      [tenant.id],
    );
    assert.ok(rows.length === 1 && rows[0]!.seconds <= 5, JSON.stringify(rows));
    // Expired while the store is still down: the sweeper cannot remove the part, so it keeps the
    // reservation (which names the object) for a later sweep instead of forgetting both.
    await stack.db.pool.query(
      "UPDATE quota_reservations SET expires_at = now() - interval '1 second' WHERE tenant_id = $1",
      [tenant.id],
    );
    await assert.rejects(sweepOnce(stack.deps));
    assert.equal((await getUsage(stack.db.pool, tenant.id))!.reservedBytes, 5);
    await own.servers.minio.restart();
    await eventually(async () => {
      await sweepOnce(stack.deps);
      const usage = (await getUsage(stack.db.pool, tenant.id))!;
      return usage.reservedBytes === 0 ? true : undefined;
    }, 'the sweeper to release the reservation');
    assert.deepEqual(await stack.storedObjects(tenant.storageBucket), []);
  });
});

describe('direct uploads in embedded mode', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await embeddedBackend.create();
  });
  after(() => stack.close());

  it('are refused with a pointer to the streaming upload', async () => {
    const tenant = await stack.createTenant();
    const res = await call(stack.url, '/uploads/videos', {
      method: 'POST',
      key: tenant.key,
      json: { filename: 'x.bin', size: 10 },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /POST \/upload\/:bucket/);
  });
});
