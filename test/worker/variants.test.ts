import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startApi } from '@stowage/api';
import {
  checkInstallation,
  defaultCheckOptions,
  getUsage,
  releaseReservation,
  type ObjectStore,
} from '@stowage/core';
import { processVariantJob, startInProcessVariants } from '@stowage/image-worker';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';
import { imageCorpus } from '../support/image-corpus.ts';
import { eventually } from '../support/poll.ts';

type Corpus = Awaited<ReturnType<typeof imageCorpus>>;

/** The worker's limits, for the jobs these tests run themselves. */
const limits = { maxInputPixels: 40_000_000, maxInputBytes: 50 * 2 ** 20, timeoutSeconds: 30 };

for (const backend of stackBackends) {
  describe(`image variants through the in-process queue on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let corpus: Corpus;
    let stopVariants: () => Promise<void>;
    before(async () => {
      corpus = await imageCorpus();
      stack = await backend.create();
      tenant = await stack.createTenant();
      stopVariants = startInProcessVariants({ ...stack.deps, limits }, 100);
    });
    after(async () => {
      await stopVariants();
      await stack.close();
    });

    const settled = (key: string) =>
      eventually(async () => {
        const res = await call(stack.url, `/files/img/${key}`, { key: tenant.key });
        return res.body.file.variantStatus === 'pending' ? undefined : res.body.file;
      }, 'the variants to settle');

    /** A file or variant of bucket `img`, fetched as a browser would, with its bytes. */
    const served = async (tenantId: string, filename: string) => {
      const res = await fetch(`${stack.url}/${tenantId}/img/${filename}`);
      return { res, bytes: Buffer.from(await res.arrayBuffer()) };
    };

    it('makes large, small and thumb WebP, serves them and counts their bytes', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'img', corpus.jpeg.data, { key: t.key, filename: 'big.jpg' });
      // Asked for at once, the thumb waits for the worker (up to 3 s) instead of failing; a worker slower
      // than that, on a busy machine, gets the client a 503 that says when to ask again, never a 404.
      const { res: early } = await served(t.id, `${body.file.id}-thumb.webp`);
      if (early.status === 503) assert.ok(Number(early.headers.get('retry-after')) > 0);
      else assert.deepEqual([early.status, early.headers.get('content-type')], [200, 'image/webp']);

      const meta = await eventually(async () => {
        const res = await call(stack.url, `/files/img/${body.file.key}`, { key: t.key });
        return res.body.file.variantStatus === 'ready' ? res.body.file : undefined;
      }, 'variants');
      let variantBytes = 0;
      for (const [name, width] of [
        ['large', 1920],
        ['small', 800],
        ['thumb', 300],
      ] as const) {
        assert.equal(meta.variants[name].status, 'ready');
        const { bytes } = await served(t.id, `${body.file.id}-${name}.webp`);
        variantBytes += bytes.length;
        const info = await sharp(bytes).metadata();
        assert.deepEqual([info.format, info.width], ['webp', width]);
      }
      const usage = (await getUsage(stack.db.pool, t.id))!;
      assert.equal(
        usage.usedBytes,
        corpus.jpeg.data.length + variantBytes,
        'variant bytes count toward the quota',
      );

      await call(stack.url, '/files/delete', {
        method: 'POST',
        key: t.key,
        json: { bucket: 'img', key: body.file.key },
      });
      assert.deepEqual(await stack.storedObjects(t.storageBucket), [], 'the variants went with the original');
      assert.equal((await getUsage(stack.db.pool, t.id))?.usedBytes, 0);
    });

    for (const name of ['truncatedJpeg', 'bomb'] as const) {
      it(`marks the variants of a ${name} failed and keeps serving the original`, async () => {
        const { body } = await upload(stack.url, 'img', corpus[name].data, {
          key: tenant.key,
          filename: 'x.jpg',
        });
        assert.ok(body.variants, 'it looks like an image');
        const file = await settled(body.file.key);
        assert.equal(file.variantStatus, 'failed');
        const original = await served(tenant.id, body.file.key);
        assert.equal(original.res.status, 200);
        assert.deepEqual(original.bytes, corpus[name].data);
        assert.equal((await served(tenant.id, `${body.file.id}-thumb.webp`)).res.status, 404);
      });
    }

    it('makes variants of a HEIC photo and serves it as uploaded', async () => {
      const { body } = await upload(stack.url, 'img', corpus.heic.data, {
        key: tenant.key,
        filename: 'x.heic',
      });
      assert.equal(body.file.mimetype, 'image/heic');
      assert.match(body.file.key, /\.heic$/);
      const file = await settled(body.file.key);
      assert.equal(file.variantStatus, 'ready');
      const thumb = await sharp((await served(tenant.id, `${body.file.id}-thumb.webp`)).bytes).metadata();
      assert.deepEqual([thumb.format, thumb.width, thumb.height], ['webp', 300, 200]);
      const original = await served(tenant.id, body.file.key);
      assert.equal(original.res.headers.get('content-type'), 'image/heic');
      assert.deepEqual(original.bytes, corpus.heic.data);
    });

    it('answers an upload with waitForVariants=true once its variants are ready', async () => {
      const { status, body } = await upload(stack.url, 'img', corpus.png.data, {
        key: tenant.key,
        fields: { waitForVariants: 'true' },
      });
      assert.equal(status, 201);
      assert.deepEqual(
        Object.values(body.variants).map((v) => (v as { status: string }).status),
        ['ready', 'ready', 'ready'],
      );
    });

    it('is idempotent: running a job again rewrites the same objects and counts the bytes once', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'img', corpus.png.data, {
        key: t.key,
        fields: { waitForVariants: 'true' },
      });
      const usage = await getUsage(stack.db.pool, t.id);
      const objects = (await stack.storedObjects(t.storageBucket)).sort();
      assert.equal(objects.length, 4);
      assert.equal(await processVariantJob({ ...stack.deps, limits }, body.file.id), 'done');
      assert.deepEqual(await getUsage(stack.db.pool, t.id), usage);
      assert.deepEqual((await stack.storedObjects(t.storageBucket)).sort(), objects);
    });

    it('removes variants that were finished after their file was deleted', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'img', corpus.png.data, {
        key: t.key,
        fields: { waitForVariants: 'true' },
      });
      // A job that is writing variants when the file is deleted: the delete lands during its first write.
      let deleted = false;
      const store = Object.create(stack.store) as ObjectStore;
      store.put = async (options) => {
        if (!deleted) {
          deleted = true;
          await call(stack.url, '/files/delete', {
            method: 'POST',
            key: t.key,
            json: { bucket: 'img', key: body.file.key },
          });
        }
        return stack.store.put(options);
      };
      assert.equal(await processVariantJob({ ...stack.deps, store, limits }, body.file.id), 'gone');
      assert.deepEqual(await stack.storedObjects(t.storageBucket), []);
      const usage = (await getUsage(stack.db.pool, t.id))!;
      assert.deepEqual([usage.usedBytes, usage.reservedBytes, usage.fileCount], [0, 0, 0]);
    });

    it('leaves no variant behind that a job recorded while its file was being deleted', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'img', corpus.png.data, {
        key: t.key,
        fields: { waitForVariants: 'true' },
      });
      // A job that has read the original writes and records its variants after the delete removed the
      // file's objects and before it removed the row.
      let fetched!: () => void;
      const originalRead = new Promise<void>((resolve) => (fetched = resolve));
      let objectsGone!: () => void;
      const deleteStarted = new Promise<void>((resolve) => (objectsGone = resolve));
      const jobStore = Object.create(stack.store) as ObjectStore;
      jobStore.get = async (options) => {
        const object = await stack.store.get(options);
        fetched();
        return object;
      };
      jobStore.put = async (options) => {
        await deleteStarted;
        return stack.store.put(options);
      };
      const job = processVariantJob({ ...stack.deps, store: jobStore, limits }, body.file.id);
      await originalRead;
      let jobRan = false;
      const store = Object.create(stack.store) as ObjectStore;
      store.delete = async (options) => {
        await stack.store.delete(options);
        if (jobRan) return;
        jobRan = true;
        objectsGone();
        assert.equal(await job, 'done');
      };
      const api = await startApi({ ...stack.deps, store });
      try {
        const res = await call(api.url, '/files/delete', {
          method: 'POST',
          key: t.key,
          json: { bucket: 'img', key: body.file.key },
        });
        assert.equal(res.status, 200);
      } finally {
        await api.close();
      }
      assert.equal(jobRan, true);
      assert.deepEqual(await stack.storedObjects(t.storageBucket), []);
    });

    it('makes no variants of a text file named .jpg', async () => {
      const { body } = await upload(stack.url, 'img', corpus.textAsJpeg.data, {
        key: tenant.key,
        filename: 'x.jpg',
      });
      assert.equal(body.file.mimetype, 'text/plain');
      assert.equal(body.variants, undefined);
    });
  });

  describe(`a variant job that outlives its quota reservation on ${backend.name}`, () => {
    let stack: ApiStack;
    let corpus: Corpus;
    before(async () => {
      corpus = await imageCorpus();
      stack = await backend.create();
    });
    after(() => stack.close());

    it('fails, and when no attempt is left, removes what it wrote and leaves the check nothing', async () => {
      const t = await stack.createTenant();
      const { body } = await upload(stack.url, 'img', corpus.png.data, { key: t.key, filename: 'x.png' });
      // Every attempt stalls while it stores its variants, long enough for its reservation to expire and
      // be released as abandoned (as the sweeper does): its record then fails and it tries again.
      const swept = new Set<string>();
      const store = Object.create(stack.store) as ObjectStore;
      store.put = async (options) => {
        const stored = await stack.store.put(options);
        const { rows } = await stack.db.pool.query(
          `UPDATE quota_reservations SET expires_at = now() - interval '1 second'
           WHERE tenant_id = $1 AND object_key IS NULL RETURNING id`,
          [t.id],
        );
        for (const { id } of rows) {
          swept.add(id);
          await releaseReservation(stack.db.pool, id, new Date());
        }
        return stored;
      };
      const stop = startInProcessVariants({ ...stack.deps, store, limits }, 50);
      try {
        const file = await eventually(async () => {
          const res = await call(stack.url, `/files/img/${body.file.key}`, { key: t.key });
          return res.body.file.variantStatus === 'pending' ? undefined : res.body.file;
        }, 'the variant job to give up');
        assert.equal(file.variantStatus, 'failed');
      } finally {
        await stop();
      }
      assert.equal(swept.size, 3, 'each of the 3 attempts lost its reservation');
      assert.deepEqual(
        await stack.storedObjects(t.storageBucket),
        [`img/${body.file.key}`],
        'only the original is left',
      );
      const usage = (await getUsage(stack.db.pool, t.id))!;
      assert.deepEqual(
        [usage.usedBytes, usage.reservedBytes, usage.fileCount],
        [corpus.png.data.length, 0, 1],
      );
      const report = await checkInstallation(stack.deps, {
        ...defaultCheckOptions,
        tenantId: t.id,
        orphanGraceMs: 0,
        expiredGraceMs: 0,
      });
      assert.deepEqual(report.tenants[0]?.findings, []);
    });
  });
}
