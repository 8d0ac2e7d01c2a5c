import { createWriteStream } from 'node:fs';
import { rm, rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { randomBytes } from 'node:crypto';
import type { Stowage } from '@stowage/sdk/node';
import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes, parseTarget } from '../format.ts';
import { plainLines, progressFor, type Transfer } from '../progress.ts';
import { UsageError } from '../usage-error.ts';

/**
 * `stw get <bucket/key|url> [-o file]`: the file's bytes, exactly, into `file` (default: its name in
 * the current folder; `-` for stdout). A download that fails leaves no file behind.
 */
export async function get(
  target: string,
  out: string | undefined,
  { settings, output }: Context,
): Promise<void> {
  if (out === '-' && output.json) throw new UsageError('--json prints on stdout: give -o a file, not -');
  const { client } = await connect(settings);
  const { body, size, name } = await start(client, target);
  const path = out === '-' ? out : await destination(out, name);
  const progress = out === '-' ? plainLines(output) : progressFor(output, { bytes: size ?? 0, files: 1 });
  const transfer = progress.start(basename(path), size ?? 0);
  let written: number;
  try {
    const bytes = Readable.fromWeb(body as WebReadableStream<Uint8Array>);
    written = out === '-' ? await copy(bytes, process.stdout, transfer) : await save(bytes, path, transfer);
  } finally {
    transfer.end();
    progress.stop();
  }
  output.document({ success: true, path, size: written });
  if (out !== '-') output.line(`saved ${path}  ${formatBytes(written)}`);
}

/** A URL as it is; `bucket/key` through the SDK's signed URL. */
function start(client: Stowage, target: string) {
  if (/^https?:\/\//i.test(target)) return client.download(target);
  const { bucket, key } = parseTarget(target);
  return client.download(key, { bucket });
}

/** `-o`'s file, or the file's own name in `-o`'s folder or the current one. */
async function destination(out: string | undefined, name: string): Promise<string> {
  if (out === undefined) return name;
  const isFolder = out.endsWith('/') || (await stat(out).catch(() => undefined))?.isDirectory();
  return isFolder ? join(out, name) : out;
}

async function copy(body: Readable, to: Writable, transfer: Transfer): Promise<number> {
  let loaded = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      loaded += chunk.length;
      transfer.update(loaded);
      done(null, chunk);
    },
  });
  await pipeline(body, count, to);
  return loaded;
}

/** Written aside and renamed once whole, so `path` never holds part of a file. */
async function save(body: Readable, path: string, transfer: Transfer): Promise<number> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
  try {
    const size = await copy(body, createWriteStream(temporary, { flags: 'wx' }), transfer);
    await rename(temporary, path);
    return size;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
