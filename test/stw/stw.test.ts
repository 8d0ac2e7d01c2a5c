import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { freePort } from '../../scripts/test-env/processes.ts';
import { realBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { uniqueName } from '../support/env.ts';
import { eventually } from '../support/poll.ts';
import { newStwUser, startStw, stw, stwOnTerminal, type StwResult, type StwUser } from '../support/stw.ts';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const json = (run: StwResult) => JSON.parse(run.stdout) as Record<string, any>;
/** Where a terminal's control sequences start. */
const ESC = '\u001b[';

/** An API whose file URLs point at itself (PUBLIC_URL on its own port), so what stw is given serves. */
async function selfServingStack(backend: { create(env?: NodeJS.ProcessEnv): Promise<ApiStack> }) {
  const port = await freePort();
  return backend.create({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
}

function assertExit(run: StwResult, code: number) {
  assert.equal(
    run.code,
    code,
    `exit ${run.code}, wanted ${code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
  );
}

/** Writes files (path → content) under `dir`, folders included. */
async function writeTree(dir: string, files: Record<string, Buffer | string>) {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

// One backend: stw sees only the API, and the embedded one serves it the same way (the SDK's own suite
// covers the difference, uploads without direct parts).
for (const backend of [realBackend]) {
  describe(`stw against ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    const users: StwUser[] = [];
    before(async () => {
      stack = await selfServingStack(backend);
      tenant = await stack.createTenant();
    });
    after(async () => {
      await Promise.all(users.map((u) => u.remove()));
      await stack.close();
    });

    async function newUser(): Promise<StwUser> {
      const user = await newStwUser();
      users.push(user);
      return user;
    }

    /** A new user who has run `stw login` with the tenant's key. */
    async function loggedIn(bucket?: string): Promise<StwUser> {
      const user = await newUser();
      const extra = bucket ? ['--bucket', bucket] : [];
      assertExit(await stw(user, ['login', '--url', stack.url, '--key', tenant.key, ...extra]), 0);
      return user;
    }

    it('logs in: checks the key against the API, then keeps it in a file only the user can read', async () => {
      const user = await newUser();
      const file = join(user.home, '.config', 'stowage', 'credentials.json');

      const refused = await stw(user, ['login', '--url', stack.url, '--key', 'stw_live_not-a-real-key']);
      assertExit(refused, 1);
      assert.match(refused.stderr, /UNAUTHORIZED: Invalid or missing API key/);
      assert.match(refused.stderr, /request id [\w-]+/);
      await assert.rejects(stat(file), { code: 'ENOENT' }, 'a refused key is not kept');

      const accepted = await stw(user, ['login', '--url', `${stack.url}/`, '--key', tenant.key]);
      assertExit(accepted, 0);
      assert.match(accepted.stdout, /Logged in to/);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(join(file, '..'))).mode & 0o777, 0o700);
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { url: stack.url, apiKey: tenant.key });

      const usage = await stw(user, ['usage', '--json']);
      assertExit(usage, 0);
      assert.equal(json(usage).success, true, 'later commands use the kept key');
    });

    it('asks for the URL and the key when they are not given', async () => {
      const user = await newUser();
      const run = await stw(user, ['login', '--json'], { input: `${stack.url}\n${tenant.key}\n` });
      assertExit(run, 0);
      assert.equal(json(run).url, stack.url);
      assert.doesNotMatch(run.stderr, new RegExp(tenant.key), 'the key is not echoed');
    });

    it('a wrong key exits 1 with the API code, message and request id; STOWAGE_API_KEY overrides the file', async () => {
      const user = await loggedIn('photos');
      const env = { STOWAGE_API_KEY: 'stw_live_wrong' };
      const run = await stw(user, ['ls'], { env });
      assertExit(run, 1);
      assert.match(run.stderr, /^stw: UNAUTHORIZED: Invalid or missing API key \[request id [\w-]+\]$/m);

      const scripted = await stw(user, ['ls', '--json'], { env });
      assertExit(scripted, 1);
      const error = json(scripted);
      assert.equal(error.success, false);
      assert.equal(error.code, 'UNAUTHORIZED');
      assert.equal(error.message, 'Invalid or missing API key');
      assert.ok(error.requestId);
    });

    it('exits 2 on bad usage, its own errors and commander’s', async () => {
      const user = await loggedIn();
      for (const args of [
        ['frobnicate'],
        ['upload'],
        ['upload', 'no-such-folder', '--bucket', 'b'],
        ['upload', '.', '--bucket', 'b', '--concurrency', '0'],
        ['ls'], // no bucket named, none by default
        ['sign', 'no-key-here'],
        ['sign', 'b/k', '--expires', 'soon'],
        ['get', 'b/k', '-o', '-', '--json'],
      ]) {
        const run = await stw(user, args);
        assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
        assert.notEqual(run.stderr, '', args.join(' '));
      }
      const notLoggedIn = await stw(await newUser(), ['usage']);
      assertExit(notLoggedIn, 2);
      assert.match(notLoggedIn.stderr, /not logged in: run `stw login`/);
    });

    it('uploads a folder recursively, a plain line per file when stdout is not a terminal; ls lists them', async () => {
      const bucket = uniqueName('docs');
      const user = await loggedIn();
      await writeTree(user.cwd, {
        'docs/a.txt': 'alpha',
        'docs/sub/b.txt': 'bravo bravo',
        'docs/sub/deeper/c.bin': randomBytes(3000),
      });
      const run = await stw(user, ['upload', 'docs', '--bucket', bucket]);
      assertExit(run, 0);
      assert.ok(!run.stdout.includes(ESC), 'no bars, no escapes');
      for (const path of ['docs/a.txt', 'docs/sub/b.txt', 'docs/sub/deeper/c.bin']) {
        assert.match(
          run.stdout,
          new RegExp(`^uploaded  ${path}  .+  http://127\\.0\\.0\\.1:\\d+/${tenant.id}/${bucket}/`, 'm'),
        );
      }
      assert.match(run.stdout, /^3 uploaded, 0 skipped$/m);

      const listed = await stw(user, ['ls', bucket, '--json']);
      assertExit(listed, 0);
      const { files } = json(listed);
      assert.deepEqual(files.map((f: any) => [f.original, f.size]).sort(), [
        ['a.txt', 5],
        ['b.txt', 11],
        ['c.bin', 3000],
      ]);
      const human = await stw(user, ['ls', bucket]);
      assert.equal(human.stdout.trim().split('\n').length, 3);

      const forced = await stw(user, ['upload', 'docs', '--bucket', bucket, '--force']);
      assertExit(forced, 0);
      assert.match(forced.stdout, /^3 uploaded, 0 skipped$/m, '--force uploads what an earlier run did');
    });

    it('uploads what the API takes and exits 1 naming what it refused, and why', async () => {
      const small = await stack.createTenant({ quota: { storage: 64 * 1024 } });
      const user = await newUser();
      assertExit(await stw(user, ['login', '--url', stack.url, '--key', small.key, '--bucket', 'full']), 0);
      await writeTree(user.cwd, { 'mixed/huge.bin': randomBytes(100 * 1024), 'mixed/small.txt': 'fits' });

      const run = await stw(user, ['upload', 'mixed', '--concurrency', '1']);
      assertExit(run, 1);
      assert.match(run.stdout, /^uploaded {2}mixed\/small\.txt/m);
      assert.match(run.stderr, /^failed {4}mixed\/huge\.bin {2}QUOTA_EXCEEDED: .+ \[request id [\w-]+\]$/m);
      assert.match(run.stdout, /^1 uploaded, 0 skipped, 1 failed$/m);

      const again = await stw(user, ['upload', 'mixed', '--json']);
      assertExit(again, 1);
      const { success, files } = json(again);
      assert.equal(success, false);
      assert.deepEqual(
        files.map((f: any) => [f.path, f.status, f.error?.code]),
        [
          ['mixed/huge.bin', 'failed', 'QUOTA_EXCEEDED'],
          ['mixed/small.txt', 'skipped', undefined],
        ],
      );
    });

    it('lists every page of a bucket', async () => {
      const bucket = uniqueName('many');
      const user = await loggedIn(bucket);
      const names = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, '0')}.txt`);
      await writeTree(user.cwd, Object.fromEntries(names.map((n) => [`many/${n}`, n])));
      assertExit(await stw(user, ['upload', 'many', '--concurrency', '6']), 0);
      const listed = await stw(user, ['ls', '--page-size', '5', '--json']);
      assertExit(listed, 0);
      assert.deepEqual(
        json(listed)
          .files.map((f: any) => f.original)
          .sort(),
        names,
        'three pages of five',
      );
    });

    it('shows a bar per file and one in total on a terminal', async () => {
      const bucket = uniqueName('bars');
      const user = await loggedIn(bucket);
      await writeTree(user.cwd, {
        'pics/one.bin': randomBytes(2 * MiB),
        'pics/two.bin': randomBytes(2 * MiB),
        'pics/three.bin': randomBytes(MiB),
      });
      const run = await stwOnTerminal(user, ['upload', 'pics', '--concurrency', '2']);
      assertExit(run, 0);
      assert.ok(run.stdout.includes(`${ESC}?25l`), 'the cursor is hidden while the bars run');
      assert.match(run.stdout, /total\s+[█░]+\s+100%\s+5\.0 MiB \/ 5\.0 MiB\s+3\/3 files/);
      assert.match(run.stdout, /(one|two|three)\.bin\s+[█░]+\s+\d+%/, "a file's own bar");
      assert.match(run.stdout, /uploaded {2}pics\/two\.bin/);
      assert.match(run.stdout, /3 uploaded, 0 skipped/);
    });

    it('gets a file byte for byte, by bucket/key or by URL, protected too, to a file, a folder or stdout', async () => {
      const bucket = uniqueName('get');
      const user = await loggedIn(bucket);
      const content = randomBytes(3 * MiB + 17);
      await writeTree(user.cwd, { 'secret.bin': content });
      const uploaded = json(await stw(user, ['upload', 'secret.bin', '--private', '--json']));
      const [{ file, url }] = uploaded.files;
      assert.equal(file.allowPublicAccess, false);
      assert.equal((await fetch(url)).status, 404, 'protected: no key, no file');

      const byKey = await stw(user, ['get', `${bucket}/${file.key}`, '-o', 'copy.bin']);
      assertExit(byKey, 0);
      assert.match(byKey.stdout, /^saved copy\.bin {2}3\.0 MiB$/m);
      assert.equal(sha256(await readFile(join(user.cwd, 'copy.bin'))), sha256(content));

      await mkdir(join(user.cwd, 'downloads'));
      const byUrl = await stw(user, ['get', url, '-o', 'downloads', '--json']);
      assertExit(byUrl, 0);
      assert.deepEqual(json(byUrl), {
        success: true,
        path: join('downloads', file.key),
        size: content.length,
      });
      assert.equal(sha256(await readFile(join(user.cwd, 'downloads', file.key))), sha256(content));

      const piped = await stw(user, ['get', `${bucket}/${file.key}`, '-o', '-']);
      assertExit(piped, 0);
      assert.equal(sha256(piped.stdoutBytes), sha256(content));

      const missing = await stw(user, ['get', `${bucket}/00000000-0000-4000-8000-000000000000.bin`]);
      assertExit(missing, 1);
      assert.match(missing.stderr, /FILE_NOT_FOUND/);
      assert.deepEqual(
        (await readdir(user.cwd)).sort(),
        ['copy.bin', 'downloads', 'secret.bin'],
        'a failed download leaves nothing behind',
      );
    });

    it('signs a URL that serves the file to anyone until it expires', async () => {
      const bucket = uniqueName('signed');
      const user = await loggedIn(bucket);
      await writeTree(user.cwd, { 'report.txt': 'the quarterly report' });
      const { files } = json(await stw(user, ['upload', 'report.txt', '--private', '--json']));
      const target = `${bucket}/${files[0].file.key}`;

      const human = await stw(user, ['sign', target]);
      assertExit(human, 0);
      assert.equal(await (await fetch(human.stdout.trim())).text(), 'the quarterly report');

      const scripted = json(await stw(user, ['sign', target, '--expires', '10m', '--json']));
      const expiresIn = Date.parse(scripted.expiresAt) - Date.now();
      // Ten minutes, and less than a second more (the URL's expiry is a whole second, rounded up).
      assert.ok(expiresIn > 5 * 60_000 && expiresIn < 10 * 60_000 + 1000, scripted.expiresAt);
      assert.equal(await (await fetch(scripted.url)).text(), 'the quarterly report');
    });

    it('reports usage', async () => {
      const user = await loggedIn();
      const scripted = await stw(user, ['usage', '--json']);
      assertExit(scripted, 0);
      const { data } = json(scripted);
      assert.equal(data.totalQuota - data.usedQuota, data.remainingQuota);
      const human = await stw(user, ['usage']);
      assert.match(
        human.stdout,
        new RegExp(`^.+ of .+ used \\(${data.percentUsed}%\\), ${data.fileCount} files$`, 'm'),
      );
    });

    it('removes files, then a whole bucket', async () => {
      const bucket = uniqueName('gone');
      const user = await loggedIn(bucket);
      await writeTree(user.cwd, { 'd/1.txt': 'one', 'd/2.txt': 'two', 'd/3.txt': 'three' });
      const { files } = json(await stw(user, ['upload', 'd', '--json']));
      const [first, second] = files.map((f: any) => `${bucket}/${f.file.key}`);

      const removed = await stw(user, ['rm', first, second]);
      assertExit(removed, 0);
      assert.equal(removed.stdout, `removed ${first}\nremoved ${second}\n`);
      const left = json(await stw(user, ['ls', '--json'])).files;
      assert.deepEqual(
        left.map((f: any) => f.original),
        ['3.txt'],
      );

      const scripted = await stw(user, ['rm-bucket', bucket, '--json']);
      assertExit(scripted, 0);
      assert.equal(json(scripted).filesDeleted, 1);
      const listed = await stw(user, ['ls']);
      assertExit(listed, 1);
      assert.match(listed.stderr, /FILE_NOT_FOUND/, 'the bucket is gone');
    });
  });
}

describe('stw upload continues where a killed run stopped (direct uploads to MinIO)', () => {
  const partSize = 5 * MiB; // S3's smallest part, and the API's part size for files this small
  const env = { STW_MULTIPART_THRESHOLD: String(partSize) };
  let stack: ApiStack;
  let tenant: TestTenant;
  let user: StwUser;
  before(async () => {
    stack = await selfServingStack(realBackend);
    tenant = await stack.createTenant();
  });
  beforeEach(async () => {
    user = await newStwUser();
  });
  afterEach(() => user.remove());
  after(() => stack.close());

  const unfinishedDir = () => join(user.home, '.local', 'state', 'stowage', 'uploads');
  const partUploads = (log: string) => log.split('\n').filter((l) => /^PUT .*partNumber=/.test(l));
  const partNumber = (line: string) => Number(new URL(line.split(' ')[1]!).searchParams.get('partNumber'));

  it('sends only the parts not stored yet, and skips the files already uploaded', async () => {
    const bucket = uniqueName('videos');
    assertExit(await stw(user, ['login', '--url', stack.url, '--key', tenant.key, '--bucket', bucket]), 0);
    const movie = randomBytes(4 * partSize + MiB); // five parts
    await writeTree(user.cwd, {
      'shoot/a.txt': 'take one',
      'shoot/b.txt': 'take two',
      'shoot/movie.bin': movie,
    });
    const args = ['upload', 'shoot', '--concurrency', '1'];

    const firstLog = join(user.home, 'first.log');
    const first = startStw(user, args, {
      env: { ...env, STW_TEST_HOLD_PARTS_AFTER: '2' },
      requestLog: firstLog,
    });
    const stored = await eventually(async () => {
      const [record] = await readdir(unfinishedDir()).catch(() => []);
      if (!record) return undefined;
      const { state } = JSON.parse(await readFile(join(unfinishedDir(), record), 'utf8'));
      return state.parts.length === 2 ? state : undefined;
    }, 'two parts of movie.bin to be stored');
    first.child.kill('SIGKILL');
    const killed = await first.result;
    assert.equal(killed.code, null, 'killed, not finished');
    assert.match(killed.stdout, /^uploaded {2}shoot\/a\.txt/m);
    assert.match(killed.stdout, /^uploaded {2}shoot\/b\.txt/m);
    assert.equal(stored.partCount, 5);
    const storedParts = stored.parts.map((p: { partNumber: number }) => p.partNumber);

    const secondLog = join(user.home, 'second.log');
    const second = await stw(user, args, { env, requestLog: secondLog });
    assertExit(second, 0);
    assert.match(second.stdout, /^skipped {3}shoot\/a\.txt {2}\(uploaded earlier: http/m);
    assert.match(second.stdout, /^skipped {3}shoot\/b\.txt/m);
    assert.match(second.stdout, /^uploaded {2}shoot\/movie\.bin/m);
    assert.match(second.stdout, /^1 uploaded, 2 skipped$/m);

    const log = await readFile(secondLog, 'utf8');
    const sent = partUploads(log).map(partNumber).sort();
    assert.deepEqual(
      sent,
      [1, 2, 3, 4, 5].filter((n) => !storedParts.includes(n)),
      'the parts stored before the kill are not sent again',
    );
    assert.doesNotMatch(log, /^(POST|PUT) \S+\/upload\//m, 'the small files are not uploaded again');
    assert.doesNotMatch(log, new RegExp(`^POST \\S+/uploads/${bucket}$`, 'm'), 'no new direct upload');
    assert.deepEqual(await readdir(unfinishedDir()), [], 'the state is deleted once the upload is done');

    const listed = json(await stw(user, ['ls', '--json'])).files;
    assert.deepEqual(listed.map((f: any) => f.original).sort(), ['a.txt', 'b.txt', 'movie.bin']);
    const key = listed.find((f: any) => f.original === 'movie.bin').key;
    assertExit(await stw(user, ['get', `${bucket}/${key}`, '-o', 'movie-copy.bin']), 0);
    assert.equal(sha256(await readFile(join(user.cwd, 'movie-copy.bin'))), sha256(movie));
  });

  it('stops on Ctrl-C keeping where the upload stands, and the same command finishes it', async () => {
    const bucket = uniqueName('clips');
    const clip = randomBytes(2 * partSize + 1);
    await writeTree(user.cwd, { 'clip.bin': clip });
    assertExit(await stw(user, ['login', '--url', stack.url, '--key', tenant.key]), 0);
    const args = ['upload', 'clip.bin', '--bucket', bucket];

    const log = join(user.home, 'ctrl-c.log');
    const first = startStw(user, args, { env: { ...env, STW_TEST_HOLD_PARTS_AFTER: '1' }, requestLog: log });
    await eventually(async () => {
      const sent = await readFile(log, 'utf8').catch(() => '');
      return partUploads(sent).length === 1 || undefined;
    }, 'a part of clip.bin to be on its way');
    first.child.kill('SIGINT');
    const interrupted = await first.result;
    assertExit(interrupted, 130);
    assert.match(interrupted.stderr, /interrupted; run the same command again to continue/);

    const second = await stw(user, args, { env });
    assertExit(second, 0);
    assert.match(second.stdout, /^uploaded {2}clip\.bin/m);
    const [file] = json(await stw(user, ['ls', bucket, '--json'])).files;
    assert.equal(file.size, clip.length);
  });
});
