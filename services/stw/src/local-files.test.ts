import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { localFiles } from './local-files.ts';
import { UsageError } from './usage-error.ts';

describe('localFiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stw-files-'));
    await mkdir(join(dir, 'tree', 'b', 'c'), { recursive: true });
    await writeFile(join(dir, 'tree', 'z.txt'), 'zz');
    await writeFile(join(dir, 'tree', 'a.txt'), 'a');
    await writeFile(join(dir, 'tree', 'b', 'c', 'deep.bin'), 'deep');
    await symlink(join(dir, 'tree', 'a.txt'), join(dir, 'tree', 'link.txt'));
    await symlink(join(dir, 'tree'), join(dir, 'tree', 'b', 'loop'));
    await symlink(join(dir, 'nowhere'), join(dir, 'tree', 'dangling'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('walks folders in name order, takes linked files, never linked folders or dangling links', async () => {
    const tree = join(dir, 'tree');
    const files = await localFiles([tree]);
    assert.deepEqual(
      files.map((f) => [f.shown, f.size]),
      [
        [join(tree, 'a.txt'), 1],
        [join(tree, 'b', 'c', 'deep.bin'), 4],
        [join(tree, 'link.txt'), 1],
        [join(tree, 'z.txt'), 2],
      ],
    );
    assert.ok(files.every((f) => f.path.startsWith('/') && f.mtimeMs > 0));
  });

  it('takes each file once, however often it is named', async () => {
    const a = join(dir, 'tree', 'a.txt');
    assert.equal((await localFiles([a, join(dir, 'tree'), a])).length, 4);
  });

  it('refuses paths that are missing or neither file nor folder', async () => {
    await assert.rejects(localFiles([join(dir, 'missing')]), UsageError);
    await assert.rejects(localFiles(['/dev/null']), UsageError);
  });
});
