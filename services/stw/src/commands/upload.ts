import {
  eachBounded,
  StowageError,
  type Stowage,
  type UploadResult,
  type UploadState,
} from '@stowage/sdk/node';
import { bucketOf, connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';
import { localFiles } from '../local-files.ts';
import { describeError, errorDocument, EXIT_API_ERROR, EXIT_OK, type Output } from '../output.ts';
import { progressFor, type Progress, type Transfer } from '../progress.ts';
import { UploadJournal, type LocalFile } from '../upload-journal.ts';

export interface UploadFlags {
  bucket?: string;
  private?: boolean;
  /** Seconds. */
  expiresIn?: number;
  concurrency: number;
  force?: boolean;
}

/** Exit code of a run stopped by Ctrl-C, as a shell reports a process SIGINT ended. */
const EXIT_INTERRUPTED = 130;

type Outcome =
  | { status: 'uploaded' | 'skipped'; result: UploadResult }
  | { status: 'failed'; error: unknown }
  | { status: 'interrupted' };

/** What one run of `stw upload` works with. */
interface Run {
  client: Stowage;
  journal: UploadJournal;
  bucket: string;
  flags: UploadFlags;
  progress: Progress;
  signal: AbortSignal;
}

/**
 * `stw upload <paths…>`: every file, folders recursively, `concurrency` at a time. Running the same
 * command again skips what an earlier run finished and continues direct uploads where it stopped.
 */
export async function upload(
  paths: string[],
  flags: UploadFlags,
  { settings, output }: Context,
): Promise<number> {
  const files = await localFiles(paths);
  const { client, credentials } = await connect(settings);
  const bucket = bucketOf(flags.bucket, credentials);
  const journal = new UploadJournal(settings.uploadsDir);
  // A file counts as not finished until its upload ends one way or the other.
  const outcomes: Outcome[] = files.map((file) => {
    const result = flags.force ? undefined : journal.finished(file, bucket);
    return result ? { status: 'skipped', result } : { status: 'interrupted' };
  });
  const todo = files.filter((_, i) => outcomes[i]!.status !== 'skipped');
  const progress = progressFor(output, {
    bytes: todo.reduce((sum, file) => sum + file.size, 0),
    files: todo.length,
  });
  files.forEach((file, i) => {
    const outcome = outcomes[i]!;
    if (outcome.status === 'skipped')
      progress.log(`skipped   ${file.shown}  (uploaded earlier: ${outcome.result.url})`);
  });

  const interrupt = new AbortController();
  const stop = () => interrupt.abort();
  process.once('SIGINT', stop);
  try {
    const run: Run = { client, journal, bucket, flags, progress, signal: interrupt.signal };
    await eachBounded(files, flags.concurrency, async (file, i) => {
      if (outcomes[i]!.status !== 'skipped' && !interrupt.signal.aborted)
        outcomes[i] = await uploadOne(run, file);
    });
  } finally {
    process.removeListener('SIGINT', stop);
    progress.stop();
  }
  return report(files, outcomes, bucket, output);
}

async function uploadOne(run: Run, file: LocalFile): Promise<Outcome> {
  const transfer = run.progress.start(file.shown, file.size);
  try {
    const result = await send(run, file, transfer);
    run.journal.saveResult(file, run.bucket, result);
    run.progress.log(`uploaded  ${file.shown}  ${formatBytes(file.size)}  ${result.url}`);
    return { status: 'uploaded', result };
  } catch (error) {
    // Where a direct upload stands is saved already (onState), for the next run to continue.
    if (run.signal.aborted) return { status: 'interrupted' };
    run.progress.problem(`failed    ${file.shown}  ${describeError(error)}`);
    return { status: 'failed', error };
  } finally {
    transfer.end();
  }
}

/** Uploads a file, continuing the direct upload an earlier run left if it is still live. */
async function send(run: Run, file: LocalFile, transfer: Transfer): Promise<UploadResult> {
  const { client, journal, bucket, flags, signal } = run;
  const attempt = (resume: UploadState | undefined) =>
    client.uploadFile(file.path, {
      bucket,
      ...(flags.private ? { allowPublicAccess: false } : {}),
      ...(flags.expiresIn ? { expiresIn: flags.expiresIn } : {}),
      onProgress: ({ loaded }) => transfer.update(loaded),
      onState: (state) => journal.saveState(file, bucket, state),
      signal,
      ...(resume ? { resume } : {}),
    });
  const saved = journal.unfinished(file, bucket);
  if (!saved) return attempt(undefined);
  // Past its expiry the API's sweeper has aborted it, or is about to.
  if (Date.parse(saved.expiresAt) <= Date.now()) {
    journal.dropState(file, bucket);
    return attempt(undefined);
  }
  try {
    return await attempt(saved);
  } catch (error) {
    // The upload the state describes is gone (aborted, or swept): start this file afresh.
    if (!(error instanceof StowageError && error.code === 'FILE_NOT_FOUND')) throw error;
    journal.dropState(file, bucket);
    return attempt(undefined);
  }
}

function report(files: LocalFile[], outcomes: Outcome[], bucket: string, output: Output): number {
  const count = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  const [uploaded, skipped, failed, interrupted] = (
    ['uploaded', 'skipped', 'failed', 'interrupted'] as const
  ).map(count);
  output.document({
    success: failed === 0 && interrupted === 0,
    bucket,
    files: files.map((file, i) => ({ path: file.shown, ...outcomeDocument(outcomes[i]!) })),
  });
  output.line(
    [
      `${uploaded} uploaded`,
      `${skipped} skipped`,
      failed ? `${failed} failed` : '',
      interrupted ? `${interrupted} not finished` : '',
    ]
      .filter(Boolean)
      .join(', '),
  );
  if (interrupted) {
    output.problem('stw: interrupted; run the same command again to continue where it stopped');
    return EXIT_INTERRUPTED;
  }
  return failed ? EXIT_API_ERROR : EXIT_OK;
}

function outcomeDocument(outcome: Outcome): Record<string, unknown> {
  switch (outcome.status) {
    case 'uploaded':
    case 'skipped': {
      const { url, file, variants } = outcome.result;
      return { status: outcome.status, url, file, ...(variants ? { variants } : {}) };
    }
    case 'failed':
      return { status: 'failed', error: errorDocument(outcome.error) };
    case 'interrupted':
      return { status: 'interrupted' };
  }
}
