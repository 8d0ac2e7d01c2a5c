import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  checkInstallation,
  defaultCheckOptions,
  insertDirectUpload,
  reserveQuota,
  type CheckOptions,
  type CheckReport,
  type Finding,
} from '@stowage/core';
import { startInProcessVariants } from '@stowage/image-worker';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';

const limits = {
  maxInputPixels: 40_000_000,
  maxInputBytes: 50 * 2 ** 20,
  timeoutSeconds: 30,
  rasteriseSvg: false,
};
/** No grace at all: whatever is inconsistent at the moment of the check is reported. */
const strict: CheckOptions = { ...defaultCheckOptions, orphanGraceMs: 0, expiredGraceMs: 0 };

const image = (width: number) =>
  sharp({ create: { width, height: 200, channels: 3, background: '#3a7' } })
    .png()
    .toBuffer();

const findingsOf = (report: CheckReport, tenantId: string): Finding[] =>
  report.tenants.find((t) => t.tenantId === tenantId)?.findings ?? [];
const kindsOf = (report: CheckReport, tenantId: string) =>
  findingsOf(report, tenantId)
    .map((f) => f.kind)
    .sort();

for (const backend of stackBackends) {
  describe(`stowage check on ${backend.name}`, () => {
    let stack: ApiStack;
    /** Everything that --repair can fix goes wrong here. */
    let broken: TestTenant;
    /** What only a person can fix: bytes lost or changed. */
    let damaged: TestTenant;
    let clean: TestTenant;
    const put = (bucket: string, key: string, body: Buffer | string) =>
      stack.store.put({ bucket, key, body: Readable.from([Buffer.from(body)]), contentType: 'x/y' });
    const sql = (text: string, params: unknown[] = []) => stack.db.pool.query(text, params);
    const runWorkers = async () => {
      const stop = startInProcessVariants({ ...stack.deps, limits }, 50);
      await eventually(async () => {
        const { rows } = await sql(`SELECT count(*)::int AS n FROM files WHERE variant_status = 'pending'`);
        return rows[0].n === 0 ? true : undefined;
      }, 'every variant job to run');
      await stop();
    };
    /** Everything the check could change, as plain data. */
    const snapshot = async () => {
      const tables = {} as Record<string, unknown>;
      for (const table of ['tenant_usage', 'quota_reservations', 'direct_uploads', 'files', 'variant_jobs']) {
        tables[table] = (await sql(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
      }
      const objects = [];
      for (const t of [broken, damaged, clean]) objects.push(await stack.storedObjects(t.storageBucket));
      return { tables, objects };
    };

    let inFlightKey: string;
    let fileWithLostThumb: string;

    before(async () => {
      stack = await backend.create();
      [broken, damaged, clean] = [
        await stack.createTenant(),
        await stack.createTenant(),
        await stack.createTenant(),
      ];
      // An installation built through the API: documents, and images with their variants.
      for (const t of [broken, damaged, clean]) {
        for (const name of ['a.txt', 'b.txt']) {
          assert.equal(
            (await upload(stack.url, 'docs', `text of ${name}`, { key: t.key, filename: name })).status,
            201,
          );
        }
        const res = await upload(stack.url, 'img', await image(400), { key: t.key, filename: 'p.png' });
        assert.equal(res.status, 201);
        if (t === broken) fileWithLostThumb = res.body.file.id;
      }
      await runWorkers();
      // Two more images whose variants never come: no worker runs from here on.
      for (const name of ['waiting.png', 'lost.png'])
        await upload(stack.url, 'img', await image(300), { key: broken.key, filename: name });
      // The API (and its sweeper) stops: what is left behind stays for the check to find.
      await stack.api.close();
    });
    after(() => stack.close());

    it('finds nothing in a consistent installation, and an in-flight upload is not an orphan', async () => {
      // An upload in flight: its quota reserved for the key, its object written, its row not yet.
      inFlightKey = `docs/${randomUUID()}.bin`;
      await reserveQuota(stack.db.pool, {
        tenantId: clean.id,
        mode: 'live',
        bytes: 5,
        objectKey: inFlightKey,
        ttlMs: 60_000,
      });
      await put(clean.storageBucket, inFlightKey, 'bytes');
      const report = await checkInstallation(stack.deps, { ...strict, tenantId: clean.id });
      assert.equal(report.found, 0, JSON.stringify(report, null, 2));
      assert.deepEqual(
        report.tenants.map((t) => t.tenantId),
        [clean.id],
      );
    });

    it('reports each kind of damage with its tenant and details, and changes nothing', async () => {
      const b = broken.id;
      await sql(
        `UPDATE tenant_usage SET used_bytes = used_bytes + 1000, file_count = file_count + 1
                 WHERE tenant_id = $1 AND mode = 'live'`,
        [b],
      );
      // An object no row knows, and an abandoned upload's reservation with the half it wrote.
      const orphan = `docs/${randomUUID()}.txt`;
      await put(broken.storageBucket, orphan, 'nobody');
      const abandoned = `docs/${randomUUID()}.txt`;
      const dead = await reserveQuota(stack.db.pool, {
        tenantId: b,
        mode: 'live',
        bytes: 7,
        objectKey: abandoned,
        ttlMs: 1,
      });
      await put(broken.storageBucket, abandoned, 'partial');
      // A direct upload nobody completed, with its multipart upload where the store has them.
      const directKey = `docs/${randomUUID()}.bin`;
      const direct = await reserveQuota(stack.db.pool, {
        tenantId: b,
        mode: 'live',
        bytes: 9,
        objectKey: directKey,
        ttlMs: 1,
      });
      const s3UploadId = stack.store.direct
        ? await stack.store.direct.create({
            bucket: broken.storageBucket,
            key: directKey,
            contentType: 'x/y',
          })
        : 'none';
      const uploadId = randomUUID();
      await insertDirectUpload(stack.db.pool, {
        id: uploadId,
        tenantId: b,
        reservationId: direct.id,
        bucket: 'docs',
        fileKey: directKey.slice('docs/'.length),
        s3UploadId,
        originalName: 'big.bin',
        declaredSize: 9,
        partSize: 5 * 2 ** 20,
        allowPublicAccess: false,
        expiresAt: new Date(Date.now() - 1000),
        mode: 'live',
        expiresIn: undefined,
      });
      await sql(`UPDATE quota_reservations SET expires_at = now() - interval '1 hour' WHERE tenant_id = $1`, [
        b,
      ]);
      // A variant the row says is ready, gone; one job waiting in the outbox for hours, one handed out and lost.
      await stack.store.delete({
        bucket: broken.storageBucket,
        keys: [`img/${fileWithLostThumb}-thumb.webp`],
      });
      const pending = (
        await sql(`SELECT id, original_name FROM files WHERE tenant_id = $1 AND variant_status = 'pending'`, [
          b,
        ])
      ).rows as { id: string; original_name: string }[];
      const waiting = pending.find((f) => f.original_name === 'waiting.png')!.id;
      const lost = pending.find((f) => f.original_name === 'lost.png')!.id;
      await sql(
        `UPDATE variant_jobs SET created_at = now() - interval '2 hours' WHERE file_id = ANY($1::uuid[])`,
        [[waiting, lost]],
      );
      await sql(`UPDATE variant_jobs SET dispatched_at = now() - interval '2 hours' WHERE file_id = $1`, [
        lost,
      ]);
      // Lost and changed bytes, in another tenant.
      const docs = (
        await sql(
          `SELECT key, original_name FROM files WHERE tenant_id = $1 AND bucket = 'docs' ORDER BY original_name`,
          [damaged.id],
        )
      ).rows;
      await stack.store.delete({ bucket: damaged.storageBucket, keys: [`docs/${docs[0].key}`] });
      await put(damaged.storageBucket, `docs/${docs[1].key}`, 'a different length');

      const before = await snapshot();
      const report = await checkInstallation(stack.deps, strict);
      assert.deepEqual(await snapshot(), before, 'a check without --repair changes nothing');

      assert.equal(report.repair, false);
      assert.deepEqual(kindsOf(report, clean.id), []);
      assert.deepEqual(kindsOf(report, damaged.id), ['missing-object', 'size-mismatch']);
      assert.deepEqual(kindsOf(report, b), [
        'dead-reservation',
        'expired-direct-upload',
        'missing-object',
        'orphan-object',
        'stuck-variants',
        'stuck-variants',
        'usage-mismatch',
      ]);
      assert.equal(report.found, 9);
      const found = findingsOf(report, b);
      const of = <K extends Finding['kind']>(kind: K) =>
        found.filter((f) => f.kind === kind) as Extract<Finding, { kind: K }>[];
      const [usage] = of('usage-mismatch');
      assert.equal(usage!.mode, 'live');
      assert.equal(usage!.recorded.usedBytes - usage!.computed.usedBytes, 1000);
      assert.equal(usage!.recorded.fileCount - usage!.computed.fileCount, 1);
      assert.equal(usage!.recorded.reservedBytes, usage!.computed.reservedBytes);
      assert.deepEqual(
        of('orphan-object').map((f) => [f.key, f.size]),
        [[orphan, 6]],
      );
      assert.deepEqual(
        of('missing-object').map((f) => [f.fileId, f.variant, f.key]),
        [[fileWithLostThumb, 'thumb', `img/${fileWithLostThumb}-thumb.webp`]],
      );
      assert.deepEqual(
        of('dead-reservation').map((f) => [f.reservationId, f.bytes, f.key]),
        [[dead.id, 7, abandoned]],
      );
      assert.deepEqual(
        of('expired-direct-upload').map((f) => [f.uploadId, f.reservationId, f.s3UploadId]),
        [[uploadId, direct.id, s3UploadId]],
      );
      assert.deepEqual(
        of('stuck-variants')
          .map((f) => [f.fileId, f.state])
          .sort(),
        [
          [lost, 'lost'],
          [waiting, 'waiting'],
        ].sort(),
      );
      assert.ok(found.every((f) => !f.repaired));
      const damage = findingsOf(report, damaged.id);
      assert.deepEqual(damage.map((f) => f.kind === 'missing-object' && [f.key, f.variant]).filter(Boolean), [
        [`docs/${docs[0].key}`, undefined],
      ]);
      const changed = damage.find((f) => f.kind === 'size-mismatch');
      assert.ok(changed?.kind === 'size-mismatch');
      assert.deepEqual(
        [changed.key, changed.recordedSize, changed.storedSize],
        [`docs/${docs[1].key}`, 'text of b.txt'.length, 18],
      );

      // With the default grace, an object written minutes ago is an upload that may still be recording.
      const patient = await checkInstallation(stack.deps, { ...defaultCheckOptions, tenantId: b });
      assert.deepEqual(kindsOf(patient, b), [
        'dead-reservation',
        'expired-direct-upload',
        'missing-object',
        'stuck-variants',
        'stuck-variants',
        'usage-mismatch',
      ]);
    });

    it('repairs what is safe, says so, and a second run finds only what a person must fix', async () => {
      const b = broken.id;
      const report = await checkInstallation(stack.deps, { ...strict, repair: true });
      const found = findingsOf(report, b);
      assert.deepEqual(
        found.map((f) => [f.kind, f.repaired]).sort(),
        [
          ['dead-reservation', true],
          ['expired-direct-upload', true],
          ['missing-object', true],
          ['orphan-object', true],
          ['stuck-variants', false],
          ['stuck-variants', true],
          ['usage-mismatch', true],
        ].sort(),
      );
      assert.equal(report.repaired, 6);
      assert.ok(
        findingsOf(report, damaged.id).every((f) => !f.repaired),
        'lost bytes are not repaired',
      );
      assert.match(found.find((f) => f.kind === 'orphan-object')!.action, /deleted/);
      // Nothing of the abandoned writes is left: no reservation, direct upload, object or multipart upload.
      assert.deepEqual((await sql('SELECT * FROM quota_reservations WHERE tenant_id = $1', [b])).rows, []);
      assert.deepEqual((await sql('SELECT * FROM direct_uploads WHERE tenant_id = $1', [b])).rows, []);
      const stored = await stack.storedObjects(broken.storageBucket);
      assert.deepEqual(
        stored.filter((k) => k.startsWith('incoming:')),
        [],
      );
      assert.equal(stored.filter((k) => k.startsWith('docs/')).length, 2);

      // The re-queued jobs (the lost one, and the image missing a variant) run, as workers would.
      await runWorkers();
      const again = await checkInstallation(stack.deps, strict);
      assert.deepEqual(kindsOf(again, b), []);
      assert.deepEqual(kindsOf(again, damaged.id), ['missing-object', 'size-mismatch']);
      assert.equal(again.found, 2);
      const one = await checkInstallation(stack.deps, { ...strict, tenantId: b });
      assert.equal(one.found, 0);
    });
  });
}
