import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UploadResult, UploadState } from '@stowage/sdk/node';
import { UploadJournal, type LocalFile } from './upload-journal.ts';

const file: LocalFile = { path: '/home/u/movie.bin', shown: 'movie.bin', size: 11, mtimeMs: 1700000000123.5 };
const state: UploadState = {
  uploadId: 'u-1',
  bucket: 'videos',
  key: 'k.bin',
  size: 11,
  partSize: 5,
  partCount: 3,
  expiresAt: '2030-01-01T00:00:00.000Z',
  parts: [{ partNumber: 1, etag: '"e1"' }],
};
const result = { success: true, url: 'http://files.test/t/videos/k.bin' } as unknown as UploadResult;

describe('UploadJournal', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stw-journal-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps the state of an unfinished upload per file and bucket, and drops it once finished', async () => {
    const journal = new UploadJournal(dir);
    journal.saveState(file, 'videos', state);
    assert.deepEqual(journal.unfinished(file, 'videos'), state);
    assert.equal(journal.unfinished(file, 'other'), undefined, 'another bucket');
    assert.equal(journal.unfinished({ ...file, size: 12 }, 'videos'), undefined, 'the file changed');
    assert.equal(journal.unfinished({ ...file, mtimeMs: file.mtimeMs + 1 }, 'videos'), undefined, 'touched');
    assert.equal(journal.finished(file, 'videos'), undefined);

    journal.saveResult(file, 'videos', result);
    assert.equal(journal.unfinished(file, 'videos'), undefined);
    assert.deepEqual(new UploadJournal(dir).finished(file, 'videos'), result, 'read back by a later run');
    assert.deepEqual(await readdir(join(dir, 'uploads')), [], 'no state file left, no temporary file either');
  });
});
