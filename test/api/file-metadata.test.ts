import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { getUsage } from '@stowage/core';
import { startInProcessVariants } from '@stowage/image-worker';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';

/** One file of each type category, recognised by its first bytes, under names that searches tell apart. */
const SAMPLES = [
  { name: 'Holiday Photo.png', bytes: PNG_1X1, mimetype: 'image/png' },
  {
    name: 'clip.mp4',
    bytes: Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypmp42\0\0\0\0mp42isom'),
      Buffer.alloc(64),
    ]),
    mimetype: 'video/mp4',
  },
  {
    name: 'song.flac',
    bytes: Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(64)]),
    mimetype: 'audio/flac',
  },
  { name: 'Report_2024.pdf', bytes: Buffer.from('%PDF-1.4\n'), mimetype: 'application/pdf' },
  { name: 'report-2024.txt', bytes: Buffer.from('plain words'), mimetype: 'text/plain' },
  {
    name: '100% backup.zip',
    bytes: Buffer.concat([
      Buffer.from('PK\x03\x04\x14'),
      Buffer.alloc(21),
      Buffer.from('a.txt'),
      Buffer.alloc(32),
    ]),
    mimetype: 'application/zip',
  },
  {
    name: 'logs.gz',
    bytes: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0, 0]),
    mimetype: 'application/gzip',
  },
  { name: 'blob.bin', bytes: Buffer.from([0, 1, 2, 3, 255, 254]), mimetype: 'application/octet-stream' },
];

interface Listed {
  key: string;
  original: string;
  mimetype: string;
  tags: string[];
}

for (const backend of stackBackends) {
  describe(`file metadata, listing filters and batch deletes on ${backend.name}`, () => {
    let stack: ApiStack;
    let stopVariants: () => Promise<void>;
    before(async () => {
      stack = await backend.create();
      const limits = { maxInputPixels: 40_000_000, maxInputBytes: 50 * 2 ** 20, timeoutSeconds: 30 };
      stopVariants = startInProcessVariants({ ...stack.deps, limits }, 100);
    });
    after(async () => {
      await stopVariants();
      await stack.close();
    });

    const patch = (t: TestTenant, bucket: string, key: string, json: unknown, apiKey = t.key) =>
      call(stack.url, `/files/${bucket}/${key}`, { method: 'PATCH', key: apiKey, json });
    const list = (t: TestTenant, bucket: string, query = '') =>
      call(stack.url, `/files/${bucket}?${query}`, { key: t.key });
    const listedNames = async (t: TestTenant, bucket: string, query: string) => {
      const res = await list(t, bucket, query);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.hasMore, false, query);
      return (res.body.files as Listed[]).map((f) => f.original);
    };
    const deleteMany = (t: TestTenant, json: unknown, apiKey = t.key) =>
      call(stack.url, '/files/delete-many', { method: 'POST', key: apiKey, json });
    /** Uploads `name` with its bytes and answers its key. */
    const put = async (t: TestTenant, bucket: string, name: string, bytes: Buffer | string = name) => {
      const res = await upload(stack.url, bucket, bytes, { key: t.key, filename: name });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.file.key as string;
    };

    it("changes a file's name, tags, metadata and visibility, each on its own", async () => {
      const t = await stack.createTenant();
      const key = await put(t, 'edit', 'notes.txt');
      const path = `/files/edit/${key}`;
      const fresh = (await call(stack.url, path, { key: t.key })).body.file;
      assert.deepEqual([fresh.tags, fresh.metadata, fresh.updatedAt], [[], {}, fresh.createdAt]);

      const renamed = await patch(t, 'edit', key, { original: 'Renamed notes ✓.txt' });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.success, true);
      assert.deepEqual(
        renamed.body,
        (await call(stack.url, path, { key: t.key })).body,
        'PATCH answers the file as GET shows it',
      );
      assert.equal(renamed.body.file.original, 'Renamed notes ✓.txt');
      assert.equal(renamed.body.file.key, key, 'the stored key stays');
      const times = await stack.db.pool.query(
        'SELECT updated_at > created_at AS moved FROM files WHERE key = $1',
        [key],
      );
      assert.equal(times.rows[0].moved, true, 'the file counts as modified');

      const tagged = await patch(t, 'edit', key, { tags: ['b', 'a:1', 'b', 'x.y_z-0'] });
      assert.deepEqual(tagged.body.file.tags, ['a:1', 'b', 'x.y_z-0'], 'a set, sorted');
      assert.equal(tagged.body.file.original, 'Renamed notes ✓.txt', 'what is not sent stays');

      const described = await patch(t, 'edit', key, {
        metadata: { orderId: '42', 'note.v1': 'héllo', empty: '' },
      });
      assert.deepEqual(described.body.file.metadata, { orderId: '42', 'note.v1': 'héllo', empty: '' });
      assert.deepEqual(described.body.file.tags, ['a:1', 'b', 'x.y_z-0']);

      const hidden = await patch(t, 'edit', key, { allowPublicAccess: false });
      assert.equal(hidden.body.file.allowPublicAccess, false);
      assert.equal(hidden.body.file.original, 'Renamed notes ✓.txt');

      const [listed] = (await list(t, 'edit')).body.files;
      assert.deepEqual(
        [listed.original, listed.tags, listed.metadata, listed.allowPublicAccess, listed.updatedAt],
        [
          'Renamed notes ✓.txt',
          ['a:1', 'b', 'x.y_z-0'],
          described.body.file.metadata,
          false,
          hidden.body.file.updatedAt,
        ],
      );

      // 21 tags, one of them twice: 20 distinct is the limit.
      const twenty = Array.from({ length: 20 }, (_, i) => `tag-${String(i).padStart(2, '0')}`);
      const full = await patch(t, 'edit', key, { tags: [...twenty, 'tag-00'] });
      assert.equal(full.status, 200, JSON.stringify(full.body));
      assert.deepEqual(full.body.file.tags, twenty);

      const cleared = await patch(t, 'edit', key, { tags: [], metadata: {} });
      assert.deepEqual([cleared.body.file.tags, cleared.body.file.metadata], [[], {}]);
    });

    it('refuses invalid changes with the fields at fault, and changes nothing', async () => {
      const t = await stack.createTenant();
      const key = await put(t, 'strict', 'kept.txt');
      const before = (await call(stack.url, `/files/strict/${key}`, { key: t.key })).body;
      const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
      const cases: [unknown, string[]][] = [
        [{}, ['body']],
        [{ colour: 'red' }, ['body', 'body']],
        [{ original: 'a/b.txt' }, ['body.original']],
        [{ original: 'a\\b.txt' }, ['body.original']],
        [{ original: '' }, ['body.original']],
        [{ original: ' padded.txt' }, ['body.original']],
        [{ original: 'bell\u0007.txt' }, ['body.original']],
        [{ original: 'x'.repeat(256) }, ['body.original']],
        [{ original: 7 }, ['body.original']],
        [{ tags: ['Upper'] }, ['body.tags.0']],
        [{ tags: ['t'.repeat(65)] }, ['body.tags.0']],
        [{ tags: ['ok', ''] }, ['body.tags.1']],
        [{ tags: 'one' }, ['body.tags']],
        [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, ['body.tags']],
        [{ metadata: { n: 1 } }, ['body.metadata.n']],
        [{ metadata: ['v'] }, ['body.metadata']],
        [{ metadata: { 'bad key': 'v' } }, ['body.metadata.bad key']],
        [{ metadata: many(33) }, ['body.metadata']],
        [{ metadata: { big: 'x'.repeat(8 * 1024) } }, ['body.metadata']],
        [{ allowPublicAccess: 'false' }, ['body.allowPublicAccess']],
        [
          { original: 'fine.txt', tags: ['NO'], allowPublicAccess: 1 },
          ['body.tags.0', 'body.allowPublicAccess'],
        ],
      ];
      for (const [json, paths] of cases) {
        const res = await patch(t, 'strict', key, json);
        assert.equal(res.status, 400, JSON.stringify(json));
        assert.equal(res.body.code, 'BAD_REQUEST');
        assert.deepEqual(
          res.body.fields.map((f: { path: string }) => f.path),
          paths,
          `${JSON.stringify(json).slice(0, 80)}: ${JSON.stringify(res.body.fields)}`,
        );
      }
      // As JSON.parse reads it, an own "__proto__" key, which a record could not hold.
      const proto = await call(stack.url, `/files/strict/${key}`, {
        method: 'PATCH',
        key: t.key,
        headers: { 'content-type': 'application/json' },
        body: '{"metadata": {"__proto__": "x"}}',
      });
      assert.equal(proto.status, 400);
      assert.deepEqual(proto.body.fields, [
        {
          path: 'body.metadata.__proto__',
          message:
            'a key is 1-64 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-", starting with a letter or digit',
        },
      ]);

      const missing = await patch(t, 'strict', `${randomUUID()}.txt`, { tags: ['a'] });
      assert.deepEqual([missing.status, missing.body.code], [404, 'FILE_NOT_FOUND']);
      const elsewhere = await patch(t, 'other', key, { tags: ['a'] });
      assert.equal(elsewhere.status, 404, 'a key is found only in its own bucket');
      const malformed = await patch(t, 'strict', 'kept.txt', { tags: ['a'] });
      assert.deepEqual(
        malformed.body.fields?.map((f: { path: string }) => f.path),
        ['params.key'],
      );
      const readOnly = await patch(t, 'strict', key, { tags: ['a'] }, await t.mintKey(['read']));
      assert.deepEqual([readOnly.status, readOnly.body.code], [403, 'FORBIDDEN']);
      const stranger = await stack.createTenant();
      assert.equal((await patch(stranger, 'strict', key, { tags: ['a'] })).status, 404);

      assert.deepEqual((await call(stack.url, `/files/strict/${key}`, { key: t.key })).body, before);
    });

    it('makes a change of visibility hold from the very next request', async () => {
      const t = await stack.createTenant();
      const key = await put(t, 'vis', 'was-public.txt', 'public at first');
      const url = `${stack.url}/${t.id}/vis/${key}`;
      for (let i = 0; i < 2; i++) assert.equal((await fetch(url)).status, 200, 'served, then from memory');

      await patch(t, 'vis', key, { allowPublicAccess: false });
      const refused = await fetch(url);
      assert.equal(refused.status, 404, 'anonymous, at once');
      assert.equal(((await refused.json()) as { code: string }).code, 'FILE_NOT_FOUND');
      assert.equal((await fetch(url, { method: 'HEAD' })).status, 404);
      const owner = await fetch(url, { headers: { 'x-api-key': t.key } });
      assert.equal(await owner.text(), 'public at first');
      assert.match(owner.headers.get('cache-control') ?? '', /private/);

      const secret = await upload(stack.url, 'vis', 'private at first', {
        key: t.key,
        filename: 'was-private.txt',
        fields: { allowPublicAccess: 'false' },
      });
      const secretUrl = `${stack.url}/${t.id}/vis/${secret.body.file.key}`;
      assert.equal((await fetch(secretUrl)).status, 404);
      await patch(t, 'vis', secret.body.file.key, { allowPublicAccess: true });
      const opened = await fetch(secretUrl);
      assert.equal(opened.status, 200);
      assert.equal(await opened.text(), 'private at first');

      const preflight = await fetch(`${stack.url}/files/vis/${key}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'PATCH' },
      });
      assert.equal(preflight.status, 204);
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPATCH\b/);
    });

    it('filters a listing by type category, MIME pattern and exact type', async () => {
      const t = await stack.createTenant();
      for (const sample of SAMPLES) await put(t, 'mixed', sample.name, sample.bytes);
      const all = (await list(t, 'mixed')).body.files as Listed[];
      assert.deepEqual(
        all.map((f) => [f.original, f.mimetype]),
        SAMPLES.map((s) => [s.name, s.mimetype]),
        'each sample is the type its bytes say',
      );
      const expected: Record<string, string[]> = {
        image: ['Holiday Photo.png'],
        video: ['clip.mp4'],
        audio: ['song.flac'],
        document: ['Report_2024.pdf', 'report-2024.txt'],
        archive: ['100% backup.zip', 'logs.gz'],
        other: ['blob.bin'],
        'image/*': ['Holiday Photo.png'],
        'application/*': ['Report_2024.pdf', '100% backup.zip', 'logs.gz', 'blob.bin'],
        'application/pdf': ['Report_2024.pdf'],
        'text/plain': ['report-2024.txt'],
        'image/jpeg': [],
      };
      for (const [type, names] of Object.entries(expected)) {
        assert.deepEqual(await listedNames(t, 'mixed', `type=${encodeURIComponent(type)}`), names, type);
      }
    });

    it('filters by tag, name and modification time, and combines filters', async () => {
      const t = await stack.createTenant();
      const keys: Record<string, string> = {};
      for (const sample of SAMPLES) keys[sample.name] = await put(t, 'found', sample.name, sample.bytes);
      await patch(t, 'found', keys['Report_2024.pdf']!, { tags: ['finance', 'q1'] });
      await patch(t, 'found', keys['report-2024.txt']!, { tags: ['finance'] });
      await patch(t, 'found', keys['logs.gz']!, { tags: ['q1'] });

      const cases: Record<string, string[]> = {
        'tag=finance': ['Report_2024.pdf', 'report-2024.txt'],
        'tag=q1': ['Report_2024.pdf', 'logs.gz'],
        'tag=fin': [],
        'tag=finance&type=archive': [],
        'tag=q1&type=archive': ['logs.gz'],
        'search=REPORT': ['Report_2024.pdf', 'report-2024.txt'],
        'search=photo': ['Holiday Photo.png'],
        // LIKE wildcards are taken literally.
        'search=_': ['Report_2024.pdf'],
        'search=t_2': ['Report_2024.pdf'],
        'search=%25': ['100% backup.zip'],
        'search=%5C': [],
        'search=report&tag=q1': ['Report_2024.pdf'],
        'search=report&type=text/plain&tag=finance': ['report-2024.txt'],
      };
      for (const [query, names] of Object.entries(cases)) {
        assert.deepEqual(await listedNames(t, 'found', query), names, query);
      }

      // Everything was modified long ago, except what is changed now.
      await stack.db.pool.query("UPDATE files SET updated_at = '2020-01-01T00:00:00Z' WHERE tenant_id = $1", [
        t.id,
      ]);
      const touched = await patch(t, 'found', keys['song.flac']!, { metadata: { rating: '5' } });
      assert.deepEqual(await listedNames(t, 'found', 'modifiedAfter=2021-06-01T00:00:00Z'), ['song.flac']);
      assert.deepEqual(
        await listedNames(t, 'found', `modifiedAfter=${encodeURIComponent('2020-01-01T00:59:59+01:00')}`),
        SAMPLES.map((s) => s.name),
        'a time with an offset; strictly after',
      );
      assert.deepEqual(await listedNames(t, 'found', 'modifiedAfter=2020-01-01T00:00:00Z'), ['song.flac']);
      assert.deepEqual(
        await listedNames(t, 'found', `modifiedAfter=${touched.body.file.createdAt}&type=audio`),
        ['song.flac'],
      );

      for (const [query, path] of [
        ['type=pictures', 'query.type'],
        ['type=image/', 'query.type'],
        ['type=*/*', 'query.type'],
        ['tag=Finance', 'query.tag'],
        ['search=', 'query.search'],
        [`search=${'x'.repeat(256)}`, 'query.search'],
        ['modifiedAfter=yesterday', 'query.modifiedAfter'],
        ['modifiedAfter=2024-01-01', 'query.modifiedAfter'],
        ['order=up', 'query.order'],
      ]) {
        const res = await list(t, 'found', query);
        assert.equal(res.status, 400, query);
        assert.deepEqual(
          res.body.fields.map((f: { path: string }) => f.path),
          [path],
          query,
        );
      }
      const none = await list(t, 'never-made', 'tag=finance');
      assert.deepEqual([none.status, none.body.code], [404, 'FILE_NOT_FOUND']);
    });

    it('pages through a filtered listing, every match exactly once, in either order', async () => {
      const t = await stack.createTenant();
      const matching: string[] = [];
      for (let i = 0; i < 24; i++) {
        const key = await put(t, 'paged', `file-${String(i).padStart(2, '0')}.txt`);
        if (i % 3 === 1) {
          await patch(t, 'paged', key, { tags: ['third'] });
          matching.push(key);
        }
      }
      /** The keys on every page of `query` at 3 a page; `between` runs after the first page. */
      const walk = async (query: string, between: () => Promise<void> = async () => {}) => {
        const seen: Listed[] = [];
        let cursor: string | null = null;
        do {
          const res = await list(t, 'paged', `${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
          assert.equal(res.status, 200, JSON.stringify(res.body));
          seen.push(...(res.body.files as Listed[]));
          if (!cursor) await between();
          cursor = res.body.nextCursor;
        } while (cursor);
        const keys = seen.map((f) => f.key);
        assert.equal(new Set(keys).size, keys.length, 'no file twice');
        return { keys, files: seen };
      };
      const addMatch = async (name: string) => {
        const key = await put(t, 'paged', name);
        await patch(t, 'paged', key, { tags: ['third'] });
        return key;
      };

      // Meanwhile: a new match (the newest, so it comes last), and matches already listed and still to
      // come are changed, which moves neither.
      let newcomer = '';
      const asc = await walk('tag=third', async () => {
        newcomer = await addMatch('newcomer.txt');
        await patch(t, 'paged', matching[0]!, { original: 'renamed-first.txt' });
        await patch(t, 'paged', matching[5]!, { original: 'renamed-later.txt' });
      });
      assert.deepEqual(asc.keys, [...matching, newcomer]);
      assert.ok(asc.files.every((f) => f.tags.includes('third')));

      // Newest first, a file uploaded after the first page is newer than where the listing started.
      const desc = await walk('tag=third&order=desc', async () => {
        await addMatch('latecomer.txt');
      });
      assert.deepEqual(desc.keys, [...matching, newcomer].reverse());

      const bySearch = await walk('search=FILE-&order=desc');
      assert.equal(bySearch.keys.length, 22, 'the 24 files, less the 2 renamed');
      assert.ok(bySearch.files.every((f) => f.original.startsWith('file-')));

      const page = await list(t, 'paged', 'tag=third&limit=2');
      const wrongWay = await list(t, 'paged', `tag=third&limit=2&order=desc&cursor=${page.body.nextCursor}`);
      assert.equal(wrongWay.status, 400);
      assert.match(wrongWay.body.message, /asc order/);
      const descPage = await list(t, 'paged', 'order=desc&limit=2');
      const backwards = await list(t, 'paged', `limit=2&cursor=${descPage.body.nextCursor}`);
      assert.match(backwards.body.message, /desc order/);
    });

    it('deletes many files at once: each with its variants, the quota returned exactly, the rest kept', async () => {
      const t = await stack.createTenant();
      const png = async (bucket: string) => {
        const key = await put(t, bucket, 'pixel.png', PNG_1X1);
        await eventually(async () => {
          const res = await call(stack.url, `/files/${bucket}/${key}`, { key: t.key });
          return res.body.file.variantStatus === 'ready' || undefined;
        }, 'variants');
        return key;
      };
      /** What a file stores, counted from what it serves: the original and each variant. */
      const storedBytes = async (bucket: string, key: string) => {
        const id = key.slice(0, 36);
        let total = 0;
        for (const name of [key, `${id}-large.webp`, `${id}-small.webp`, `${id}-thumb.webp`]) {
          const res = await fetch(`${stack.url}/${t.id}/${bucket}/${name}`);
          if (res.ok) total += (await res.arrayBuffer()).byteLength;
        }
        return total;
      };
      const gone = [await png('batch'), await png('batch'), await put(t, 'batch', 'doc.pdf', '%PDF-1.4\n')];
      const keptHere = await put(t, 'batch', 'stays.txt');
      const keptElsewhere = await png('keep');
      const returned = (await Promise.all(gone.map((key) => storedBytes('batch', key)))).reduce(
        (a, b) => a + b,
      );
      assert.ok(returned > 2 * PNG_1X1.length + 9, 'the images have variants that count');
      const usage = (await getUsage(stack.db.pool, t.id))!;

      const missing = `${randomUUID()}.png`;
      const request = {
        bucket: 'batch',
        keys: [gone[0], gone[1], 'not-a-key', gone[2], gone[0], missing, '../../etc/passwd', keptElsewhere],
      };
      const res = await deleteMany(t, request);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(
        res.body.deleted,
        [...gone, missing, keptElsewhere],
        'each key once, in the order sent',
      );
      assert.deepEqual(
        res.body.failed.map((f: { key: string; code: string }) => [f.key, f.code]),
        [
          ['not-a-key', 'BAD_REQUEST'],
          ['../../etc/passwd', 'BAD_REQUEST'],
        ],
      );
      assert.match(res.body.failed[0].message, /<uuid>\.<ext>/);

      const now = (await getUsage(stack.db.pool, t.id))!;
      assert.equal(now.usedBytes, usage.usedBytes - returned, 'originals and variants given back, once');
      assert.equal(now.fileCount, usage.fileCount - 3);
      const id = (key: string) => key.slice(0, 36);
      assert.deepEqual(
        (await stack.storedObjects(t.storageBucket)).sort(),
        [
          `batch/${keptHere}`,
          `keep/${keptElsewhere}`,
          ...['large', 'small', 'thumb'].map((v) => `keep/${id(keptElsewhere)}-${v}.webp`),
        ].sort(),
        'every object of the deleted files is gone, and only those',
      );
      for (const key of gone) {
        assert.equal((await call(stack.url, `/files/batch/${key}`, { key: t.key })).status, 404);
      }
      assert.deepEqual(await listedNames(t, 'batch', ''), ['stays.txt']);
      assert.equal((await fetch(`${stack.url}/${t.id}/keep/${keptElsewhere}`)).status, 200);

      const again = await deleteMany(t, request);
      assert.deepEqual(again.body, res.body, 'idempotent');
      assert.deepEqual(await getUsage(stack.db.pool, t.id), now);
    });

    it('takes 1 to 1000 keys, and refuses a batch that is not one with the fields at fault', async () => {
      const t = await stack.createTenant();
      await put(t, 'limits', 'one.txt');
      const thousand = Array.from({ length: 1000 }, () => `${randomUUID()}.jpeg`);
      const full = await deleteMany(t, { bucket: 'limits', keys: thousand });
      assert.equal(full.status, 200, JSON.stringify(full.body).slice(0, 200));
      assert.equal(full.body.deleted.length, 1000);

      for (const [json, paths] of [
        [{ bucket: 'limits', keys: [] }, ['body.keys']],
        [{ bucket: 'limits', keys: [...thousand, `${randomUUID()}.png`] }, ['body.keys']],
        [{ bucket: 'limits', keys: 'one.txt' }, ['body.keys']],
        [{ bucket: 'limits', keys: [7] }, ['body.keys.0']],
        [{ bucket: 'Not A Bucket', keys: [thousand[0]] }, ['body.bucket']],
        [{ keys: [thousand[0]] }, ['body.bucket']],
      ] as const) {
        const res = await deleteMany(t, json);
        assert.equal(res.status, 400, JSON.stringify(json).slice(0, 80));
        assert.deepEqual(
          res.body.fields.map((f: { path: string }) => f.path),
          paths,
        );
      }
      const readOnly = await deleteMany(
        t,
        { bucket: 'limits', keys: [thousand[0]] },
        await t.mintKey(['read']),
      );
      assert.deepEqual([readOnly.status, readOnly.body.code], [403, 'FORBIDDEN']);
      assert.deepEqual(await listedNames(t, 'limits', ''), ['one.txt']);
    });

    it('describes the new route, PATCH and the listing filters in /openapi.json', async () => {
      const { body: doc } = await call(stack.url, '/openapi.json');
      const edit = doc.paths['/files/{bucket}/{key}'].patch;
      assert.equal(edit.operationId, 'updateFile');
      assert.equal(edit['x-stowage-scope'], 'write');
      assert.deepEqual(Object.keys(edit.requestBody.content['application/json'].schema.properties), [
        'original',
        'tags',
        'metadata',
        'allowPublicAccess',
      ]);
      assert.deepEqual(Object.keys(edit.responses), ['200', '404', 'default']);
      const batch = doc.paths['/files/delete-many'].post;
      assert.equal(batch['x-stowage-scope'], 'write');
      assert.deepEqual(batch.requestBody.content['application/json'].schema.properties.keys.maxItems, 1000);
      assert.deepEqual(Object.keys(batch.responses['200'].content['application/json'].schema.properties), [
        'success',
        'deleted',
        'failed',
      ]);
      const listing = doc.paths['/files/{bucket}'].get;
      assert.deepEqual(
        listing.parameters.map((p: { name: string }) => p.name),
        ['bucket', 'limit', 'cursor', 'order', 'type', 'tag', 'search', 'modifiedAfter'],
      );
      const file = doc.components.schemas.File;
      for (const field of ['tags', 'metadata', 'updatedAt']) assert.ok(file.required.includes(field), field);
    });
  });
}
