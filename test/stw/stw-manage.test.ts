import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../scripts/test-env/processes.ts';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { PNG_1X1, upload } from '../support/http.ts';
import { newStwUser, stw, type StwResult, type StwUser } from '../support/stw.ts';

const json = (run: StwResult) => JSON.parse(run.stdout) as Record<string, any>;

function assertExit(run: StwResult, code: number) {
  assert.equal(
    run.code,
    code,
    `exit ${run.code}, wanted ${code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
  );
}

for (const backend of stackBackends) {
  describe(`stw keys, tag, ls filters and tenant against ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let user: StwUser;
    before(async () => {
      const port = await freePort();
      stack = await backend.create({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
      tenant = await stack.createTenant({ displayName: 'Acme Inc.' });
      user = await newStwUser();
      assertExit(await stw(user, ['login', '--url', stack.url, '--key', tenant.key, '--bucket', 'docs']), 0);
    });
    after(async () => {
      await user.remove();
      await stack.close();
    });

    it('tags a file, clears its tags, and lists by tag, name, type and order', async () => {
      const put = async (filename: string, content: string | Buffer) =>
        (await upload(stack.url, 'docs', content, { key: tenant.key, filename })).body.file.key as string;
      const a = await put('alpha.txt', 'a');
      const b = await put('beta.txt', 'b');
      const c = await put('dot.png', PNG_1X1);

      const tagged = await stw(user, ['tag', `docs/${a}`, 'red', 'blue']);
      assertExit(tagged, 0);
      assert.equal(tagged.stdout, `docs/${a}  blue red\n`);
      assert.deepEqual(json(await stw(user, ['tag', `docs/${c}`, 'red', '--json'])).file.tags, ['red']);

      const keys = async (...args: string[]) =>
        json(await stw(user, ['ls', '--json', ...args])).files.map((f: { key: string }) => f.key);
      assert.deepEqual(await keys('--tag', 'red'), [a, c]);
      assert.deepEqual(await keys('--tag', 'red', '--order', 'desc', '--page-size', '1'), [c, a]);
      assert.deepEqual(await keys('--search', 'BETA'), [b]);
      assert.deepEqual(await keys('docs', '--type', 'image'), [c]);

      const cleared = await stw(user, ['tag', `docs/${a}`, '--clear', '--json']);
      assertExit(cleared, 0);
      assert.deepEqual(json(cleared).file.tags, []);
      assert.deepEqual(await keys('--tag', 'red'), [c]);

      assertExit(await stw(user, ['tag', `docs/${a}`]), 2);
      assertExit(await stw(user, ['tag', `docs/${a}`, 'x', '--clear']), 2);
      assertExit(await stw(user, ['ls', '--order', 'sideways']), 2);
      const missing = await stw(user, ['tag', `docs/${crypto.randomUUID()}.txt`, 'x', '--json']);
      assertExit(missing, 1);
      assert.equal(json(missing).code, 'FILE_NOT_FOUND');
    });

    it('creates, lists and revokes keys', async () => {
      const created = await stw(user, [
        'keys',
        'create',
        'deploy',
        '--scopes',
        'read,write',
        '--mode',
        'test',
        '--origin',
        'https://a.example',
        'https://b.example',
        '--json',
      ]);
      assertExit(created, 0);
      const { key, apiKey } = json(created);
      assert.match(apiKey, /^stw_test_/);
      assert.deepEqual(
        [key.name, key.scopes, key.allowedOrigins],
        ['deploy', ['read', 'write'], ['https://a.example', 'https://b.example']],
      );

      const human = await stw(user, [
        'keys',
        'create',
        'ci',
        '--scopes',
        'read',
        '--mode',
        'test',
        '--expires',
        '2099-01-01T00:00:00Z',
      ]);
      assertExit(human, 0);
      assert.match(
        human.stdout,
        /expires 2099-01-01T00:00:00\.000Z {2}ci\nstw_test_\S+\n\(the key is shown this once/,
      );

      const listed = json(await stw(user, ['keys', 'ls', '--json'])).keys.map(
        (k: { name: string }) => k.name,
      );
      assert.ok(listed.includes('deploy') && listed.includes('ci'), String(listed));

      const revoked = await stw(user, ['keys', 'revoke', key.id]);
      assertExit(revoked, 0);
      assert.equal(revoked.stdout, `revoked ${key.id}\n`);
      const after = json(await stw(user, ['keys', 'ls', '--json'])).keys.map((k: { name: string }) => k.name);
      assert.ok(!after.includes('deploy'));

      assertExit(await stw(user, ['keys', 'create', 'x', '--mode', 'test']), 2);
      const taken = await stw(user, ['keys', 'create', 'ci', '--scopes', 'read', '--mode', 'test', '--json']);
      assertExit(taken, 1);
      assert.equal(json(taken).code, 'BAD_REQUEST');
    });

    it('uploads files that expire, and shows a test key its sandbox', async () => {
      await writeFile(join(user.cwd, 'brief.txt'), 'for a while');
      const started = Date.now();
      assertExit(await stw(user, ['upload', 'brief.txt', '--expires-in', '2h']), 0);
      const [file] = json(await stw(user, ['ls', '--json', '--search', 'brief'])).files;
      const expires = Date.parse(file.expiresAt);
      assert.ok(expires >= started + 7200_000 && expires <= Date.now() + 7200_000, 'two hours after upload');
      assert.match((await stw(user, ['ls', '--search', 'brief'])).stdout, /brief\.txt {2}\(expires .+\)\n$/);
      assertExit(await stw(user, ['upload', 'brief.txt', '--force', '--expires-in', 'soon']), 2);

      const sandbox = { env: { STOWAGE_API_KEY: await tenant.mintKey(['read'], { mode: 'test' }) } };
      const usage = await stw(user, ['usage'], sandbox);
      assertExit(usage, 0);
      assert.match(usage.stdout, /^0 B of 1\.0 GiB used in test mode \(0%\), 0 files\n/);
      assert.equal(json(await stw(user, ['ls', '--json'], sandbox)).files.length, 0, 'no live file listed');
    });

    it('describes the tenant', async () => {
      const human = await stw(user, ['tenant']);
      assertExit(human, 0);
      assert.match(human.stdout, new RegExp(`^Acme Inc\\. \\(${tenant.id}\\), managed storage\n`));
      assert.match(human.stdout, /\norigins: any\n/);
      const doc = json(await stw(user, ['tenant', '--json']));
      assert.equal(doc.tenant.tenantId, tenant.id);
    });

    it('shows the audit log, newest first, filtered by action and time', async () => {
      const own = await stack.createTenant();
      const auditor = await newStwUser();
      try {
        assertExit(
          await stw(auditor, ['login', '--url', stack.url, '--key', own.key, '--bucket', 'docs']),
          0,
        );
        const first = (await upload(stack.url, 'docs', 'a', { key: own.key })).body.file.key as string;
        const second = (await upload(stack.url, 'docs', 'b', { key: own.key })).body.file.key as string;
        assertExit(await stw(auditor, ['rm', `docs/${first}`]), 0);

        const doc = json(await stw(auditor, ['audit', '--json']));
        assert.deepEqual(
          doc.entries.map((e: { action: string; key: string }) => [e.action, e.key]),
          [
            ['deleteFile', first],
            ['uploadFile', second],
            ['uploadFile', first],
          ],
        );
        const uploads = json(await stw(auditor, ['audit', '--action', 'uploadFile', '-n', '1', '--json']));
        assert.deepEqual(
          uploads.entries.map((e: { key: string }) => e.key),
          [second],
        );
        assert.deepEqual(json(await stw(auditor, ['audit', '--since', '0s', '--json'])).entries, []);

        const human = await stw(auditor, ['audit', '--action', 'deleteFile']);
        assertExit(human, 0);
        assert.match(
          human.stdout,
          new RegExp(`^\\S+Z  deleteFile +200  stw_\\w+  docs/${first}  \\S+  \\S+\n$`),
        );
        assertExit(await stw(auditor, ['audit', '--since', 'yesterday']), 2);
      } finally {
        await auditor.remove();
      }
    });
  });
}
