import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { embeddedBackend, type ApiStack } from '../support/api-stack.ts';
import { holdings } from './support.ts';

const run = promisify(execFile);

/** What a user writes after `npm install` of the tarball: plain ESM, no build step, no source condition. */
const SCRIPT = `import { Stowage } from '@stowage/sdk';
const sdk = new Stowage({ baseUrl: process.env.STOWAGE_URL, apiKey: process.env.STOWAGE_API_KEY, bucket: 'pkg' });
const { file } = await sdk.uploadFile(new TextEncoder().encode('from the tarball'), { filename: 'hello.txt' });
const listed = (await sdk.listFiles()).files.map((f) => f.original);
console.log(JSON.stringify({ listed, deleted: await sdk.deleteMultipleFiles([file.key]) }));
`;

describe('@stowage/sdk as an installed package', () => {
  let stack: ApiStack;
  let dir: string;
  before(async () => {
    stack = await embeddedBackend.create();
    dir = await mkdtemp(join(tmpdir(), 'stowage-sdk-package-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await stack.close();
  });

  it('builds, packs, installs offline into a fresh project, and uploads, lists and deletes there', async () => {
    // As `make build` compiles it (tsconfig.build.json references services/sdk).
    await run('npx', ['tsc', '-b', 'services/sdk']);
    const packs = join(dir, 'packs');
    await mkdir(packs);
    await run('npm', ['pack', '-w', 'services/sdk', '--pack-destination', packs, '--silent']);
    const packed = await readdir(packs);
    assert.equal(packed.length, 1);
    assert.match(packed[0]!, /^stowage-sdk-.+\.tgz$/);
    const tarball = join(packs, packed[0]!);

    const project = join(dir, 'project');
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'user-app', private: true, type: 'module' }),
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], {
      cwd: project,
    });
    const installed = await readdir(join(project, 'node_modules', '@stowage', 'sdk'));
    assert.deepEqual(installed.sort(), ['dist', 'openapi.json', 'package.json'], 'no sources shipped');

    await writeFile(join(project, 'main.js'), SCRIPT);
    const tenant = await stack.createTenant();
    const { stdout } = await run(process.execPath, ['main.js'], {
      cwd: project,
      env: { PATH: process.env.PATH, STOWAGE_URL: stack.url, STOWAGE_API_KEY: tenant.key },
    });
    const { listed, deleted } = JSON.parse(stdout);
    assert.deepEqual(listed, ['hello.txt']);
    assert.equal(deleted.length, 1);
    assert.equal(deleted[0].success, true);
    assert.equal((await holdings(stack, tenant)).files, 0, 'deleted');
  });
});
