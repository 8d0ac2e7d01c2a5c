import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { PassThrough, addAbortSignal } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ObjectNotFoundError,
  type AbortStaleUploadsOptions,
  type GetObjectOptions,
  type ObjectHead,
  type ObjectStore,
  type PutObjectOptions,
  type StoredObject,
  compareKeys,
  exactLength,
} from './object-store.ts';

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * An ObjectStore in a local directory, for single-node installs and tests. Layout under the root:
 *
 *   <bucket>/objects/<key>    the bytes
 *   <bucket>/meta/<key>       JSON `{ "contentType": "…" }`; the same tree shape as objects/, so any key that
 *                             fits there fits here too
 *   <bucket>/.incoming/<id>   writes in progress, renamed into place only once complete
 *
 * Keys become paths, so unlike S3 one key cannot also be the "directory" of another (`a` and `a/b`).
 * Bucket tags are accepted and ignored: a directory has nothing that would act on them.
 */
export class FilesystemObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  async ensureBucket(bucket: string) {
    const dir = this.bucketDir(bucket);
    for (const sub of ['objects', 'meta', '.incoming']) await mkdir(join(dir, sub), { recursive: true });
  }

  async removeBucket(bucket: string) {
    await rm(this.bucketDir(bucket), { recursive: true, force: true });
  }

  async bucketExists(bucket: string) {
    return (await statIfExists(this.bucketDir(bucket)))?.isDirectory() ?? false;
  }

  async put({ bucket, key, body, contentType, size: declared, signal }: PutObjectOptions) {
    const paths = this.paths(bucket, key);
    const temp = join(this.bucketDir(bucket), '.incoming', `${incomingPrefix(key)}${randomUUID()}`);
    const tempMeta = `${temp}.json`;
    let size = 0;
    try {
      await pipeline(
        body,
        declared === undefined ? new PassThrough() : exactLength(declared),
        async function* count(source: AsyncIterable<Buffer | string>) {
          for await (const chunk of source) {
            size += Buffer.byteLength(chunk);
            yield chunk;
          }
        },
        // 'wx': a missing bucket fails here instead of being created on the fly.
        createWriteStream(temp, { flags: 'wx' }),
        { signal },
      );
      await writeFile(tempMeta, JSON.stringify({ contentType }));
      // Metadata first: a reader never sees new bytes described by the old content type.
      await moveInto(tempMeta, paths.meta);
      await moveInto(temp, paths.object);
      return { size };
    } finally {
      await rm(temp, { force: true });
      await rm(tempMeta, { force: true });
    }
  }

  async get({ bucket, key, range, signal }: GetObjectOptions): Promise<StoredObject> {
    const paths = this.paths(bucket, key);
    // Reading through one open handle keeps serving the old bytes if a put replaces the object meanwhile.
    const handle = await open(paths.object).catch((error: unknown) => {
      throw isMissing(error) ? new ObjectNotFoundError(bucket, key) : error;
    });
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new ObjectNotFoundError(bucket, key);
      const contentType = await readContentType(paths.meta);
      const body = handle.createReadStream(range ?? {});
      return { body: signal ? addAbortSignal(signal, body) : body, size: info.size, contentType };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head({ bucket, key }: { bucket: string; key: string }): Promise<ObjectHead | undefined> {
    const paths = this.paths(bucket, key);
    const info = await statIfExists(paths.object);
    if (!info?.isFile()) return undefined;
    return { size: info.size, contentType: await readContentType(paths.meta) };
  }

  async delete({ bucket, keys }: { bucket: string; keys: string[] }) {
    for (const key of keys) await this.deleteObject(bucket, key);
  }

  async *list({ bucket, prefix = '', signal }: { bucket: string; prefix?: string; signal?: AbortSignal }) {
    const objects = join(this.bucketDir(bucket), 'objects');
    for await (const key of keysWithPrefix(objects, prefix, '', true)) {
      signal?.throwIfAborted();
      // Deleted since its directory was read: it is no longer there to list.
      const info = await statIfExists(join(objects, key));
      if (info?.isFile()) yield { key, size: info.size, lastModified: info.mtime };
    }
  }

  async deletePrefix({ bucket, prefix, signal }: { bucket: string; prefix: string; signal?: AbortSignal }) {
    let deleted = 0;
    for await (const key of keysWithPrefix(join(this.bucketDir(bucket), 'objects'), prefix)) {
      signal?.throwIfAborted();
      if (await this.deleteObject(bucket, key)) deleted += 1;
    }
    return deleted;
  }

  async abortStaleUploads({ bucket, olderThan, key, signal }: AbortStaleUploadsOptions) {
    const incoming = join(this.bucketDir(bucket), '.incoming');
    let removed = 0;
    for (const name of await readdir(incoming)) {
      signal?.throwIfAborted();
      if (key !== undefined && !name.startsWith(incomingPrefix(key))) continue;
      // mtime, not creation time: a slow write that is still receiving bytes is not stale.
      const info = await statIfExists(join(incoming, name));
      if (!info || info.mtime >= olderThan) continue;
      await rm(join(incoming, name), { force: true });
      removed += 1;
    }
    return removed;
  }

  /** Resolves to whether the object existed. */
  private async deleteObject(bucket: string, key: string): Promise<boolean> {
    const paths = this.paths(bucket, key);
    const existed = await unlinkIfExists(paths.object);
    await unlinkIfExists(paths.meta);
    // Empty directories would stop a later put of a key named like one of them (`a/b` deleted, then `a`).
    await removeEmptyParents(paths.object, join(this.bucketDir(bucket), 'objects'));
    await removeEmptyParents(paths.meta, join(this.bucketDir(bucket), 'meta'));
    return existed;
  }

  private bucketDir(bucket: string): string {
    if (bucket.includes('/') || isUnsafeSegment(bucket)) {
      throw new Error(`bucket name ${JSON.stringify(bucket)} is not a single directory name`);
    }
    return join(this.root, bucket);
  }

  // Defence in depth: callers validate keys too, but a key must never reach outside its bucket directory.
  private paths(bucket: string, key: string) {
    if (key.split('/').some(isUnsafeSegment)) {
      throw new Error(`object key ${JSON.stringify(key)} could escape the bucket directory`);
    }
    const dir = this.bucketDir(bucket);
    return { object: join(dir, 'objects', key), meta: join(dir, 'meta', key) };
  }
}

function isUnsafeSegment(segment: string): boolean {
  return segment === '' || segment === '.' || segment === '..' || segment.includes('\0');
}

/**
 * Yields the keys under `objectsDir` that start with `prefix`, entering only directories that can hold one;
 * with `sorted`, in `compareKeys` order. That holds one directory's names in memory at a time: a directory's
 * keys all start with its name and a "/", so it sorts among its siblings as that.
 */
async function* keysWithPrefix(
  objectsDir: string,
  prefix: string,
  dir = '',
  sorted = false,
): AsyncGenerator<string> {
  const entries = await readdir(join(objectsDir, dir), { withFileTypes: true }).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw error;
  });
  const named = entries.map((entry) => ({
    entry,
    key: dir ? `${dir}/${entry.name}` : entry.name,
    sortAs: entry.isDirectory() ? `${entry.name}/` : entry.name,
  }));
  if (sorted) named.sort((a, b) => compareKeys(a.sortAs, b.sortAs));
  for (const { entry, key } of named) {
    if (entry.isDirectory()) {
      const path = `${key}/`;
      if (path.startsWith(prefix) || prefix.startsWith(path))
        yield* keysWithPrefix(objectsDir, prefix, key, sorted);
    } else if (key.startsWith(prefix)) {
      yield key;
    }
  }
}

async function removeEmptyParents(path: string, stopAt: string) {
  for (let dir = dirname(path); dir.startsWith(stopAt + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch (error) {
      if (hasCode(error, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) return;
      throw error;
    }
  }
}

async function readContentType(metaPath: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(metaPath, 'utf8')) as { contentType: string }).contentType;
  } catch (error) {
    // Only an object deleted between our two reads has no metadata; its bytes are still being served.
    if (isMissing(error)) return DEFAULT_CONTENT_TYPE;
    throw error;
  }
}

async function statIfExists(path: string): Promise<Stats | undefined> {
  return stat(path).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
}

async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    // EISDIR: the key names a directory that only holds longer keys, so the object itself does not exist.
    if (hasCode(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) return false;
    throw error;
  }
}

/** ENOTDIR: a path component is a file, e.g. reading `a/b` when `a` is an object. */
function isMissing(error: unknown): boolean {
  return hasCode(error, 'ENOENT', 'ENOTDIR');
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && 'code' in error && codes.includes(String(error.code));
}

/** Names of writes in progress start with a digest of their key, so one key's leftovers can be found. */
export function incomingPrefix(key: string): string {
  return `${createHash('sha256').update(key).digest('hex').slice(0, 16)}-`;
}

/**
 * Renames `from` to `to`, making `to`'s directory first. A delete elsewhere may remove that directory
 * once it looks empty, between the mkdir and the rename; then it is made again.
 */
async function moveInto(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (error) {
      if (!isMissing(error) || attempt >= 5) throw error;
    }
  }
}
