import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { UploadResult, UploadState } from '@stowage/sdk/node';

/** A file to upload, as found on disk. */
export interface LocalFile {
  /** Absolute. */
  path: string;
  /** As the user named it (or within the folder they named), for the output. */
  shown: string;
  size: number;
  mtimeMs: number;
}

/**
 * What earlier runs of `stw upload` left behind: the state of each unfinished direct upload, to
 * continue it, and what each finished file became, to skip it. A file counts as the same while its
 * absolute path, size and modification time are, and only for the bucket it went to.
 *
 * Records are written synchronously, aside and then renamed: once `saveState` returns, the newest
 * state is on disk whole, so a process killed at any moment leaves one to continue from.
 */
export class UploadJournal {
  private readonly unfinishedDir: string;
  private readonly finishedDir: string;

  constructor(dir: string) {
    this.unfinishedDir = join(dir, 'uploads');
    this.finishedDir = join(dir, 'uploaded');
  }

  unfinished(file: LocalFile, bucket: string): UploadState | undefined {
    return read<{ state: UploadState }>(this.recordPath(this.unfinishedDir, file, bucket))?.state;
  }

  finished(file: LocalFile, bucket: string): UploadResult | undefined {
    return read<{ result: UploadResult }>(this.recordPath(this.finishedDir, file, bucket))?.result;
  }

  saveState(file: LocalFile, bucket: string, state: UploadState): void {
    write(this.recordPath(this.unfinishedDir, file, bucket), { ...identity(file, bucket), state });
  }

  saveResult(file: LocalFile, bucket: string, result: UploadResult): void {
    write(this.recordPath(this.finishedDir, file, bucket), { ...identity(file, bucket), result });
    this.dropState(file, bucket);
  }

  dropState(file: LocalFile, bucket: string): void {
    rmSync(this.recordPath(this.unfinishedDir, file, bucket), { force: true });
  }

  private recordPath(dir: string, file: LocalFile, bucket: string): string {
    const id = createHash('sha256')
      .update(JSON.stringify(identity(file, bucket)))
      .digest('hex');
    return join(dir, `${id}.json`);
  }
}

const identity = (file: LocalFile, bucket: string) => ({
  path: file.path,
  size: file.size,
  mtimeMs: file.mtimeMs,
  bucket,
});

function read<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function write(path: string, record: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  renameSync(temporary, path);
}
