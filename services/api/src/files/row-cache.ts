import type pg from 'pg';
import {
  getBucketSettings,
  getFileById,
  type BucketSettings,
  type ChangeFeed,
  type FileRecord,
  type Logger,
  type RowChange,
} from '@stowage/core';
import { TtlCache } from '../auth/ttl-cache.ts';

/** File rows kept at most; a row is about a kilobyte. */
const MAX_FILES = 50_000;

/**
 * File rows (as serving and GET /files find them) and bucket settings (as uploads read them), kept in
 * this process so that a request for a popular file, or an upload into a busy bucket, needs no query.
 *
 * Never stale beyond bounds: every entry is forgotten
 * - at once in this process when one of its own requests changes the row (`forgetFiles`), so a client
 *   always reads its own writes;
 * - within milliseconds on every replica when any writer changes or deletes it, told by the database
 *   (`feed`, LISTEN/NOTIFY from triggers on the tables);
 * - whatever happens, `ttlMs` after it was read (KEY_CACHE_TTL_MS, at most 2 s: the bound of a key's
 *   revocation too), and a file's row at its expiresAt, so an expired file is 404 at once.
 * While the feed's connection is down, nothing is kept or served from memory: every request reads the
 * database, as it would without the cache, until the feed listens again. Without a feed (the embedded
 * database: one process, which no other writes to), this process's own changes and the lifetime bound it.
 */
export class RowCache {
  private readonly files: TtlCache<FileRecord>;
  private readonly buckets: TtlCache<BucketSettings>;
  /** Moves on every forgetting, so a read that raced one is not kept (it may predate the change). */
  private generation = 0;
  private trusted: boolean;

  constructor(
    private readonly pool: pg.Pool,
    ttlMs: number,
    private readonly feed?: ChangeFeed,
  ) {
    this.files = new TtlCache(ttlMs, MAX_FILES);
    this.buckets = new TtlCache(ttlMs);
    this.trusted = !feed;
  }

  /** Starts listening to the feed, if there is one; nothing is kept until it listens. */
  listen(logger: Pick<Logger, 'info' | 'warn'>): void {
    this.feed?.start({
      onChange: (change) => this.apply(change),
      onState: (listening) => {
        if (listening === this.trusted) return;
        this.forgetEverything();
        this.trusted = listening;
        if (listening) logger.info('row cache: hearing changes again, caching file rows');
        else logger.warn('row cache: change notifications lost, reading every file row until they are back');
      },
    });
  }

  async close(): Promise<void> {
    await this.feed?.stop();
  }

  /** A file of the tenant in `bucket` by id, of either mode, unless it has expired. */
  async file(tenantId: string, bucket: string, id: string): Promise<FileRecord | undefined> {
    const hit = this.trusted ? this.files.peek(id)?.value : undefined;
    // Ids are unique: a row of another tenant or bucket means there is no such file here.
    if (hit) return hit.tenantId === tenantId && hit.bucket === bucket ? hit : undefined;
    const generation = this.generation;
    const file = await getFileById(this.pool, tenantId, bucket, id);
    if (file && this.keeps(generation)) this.files.set(id, file, file.expiresAt?.getTime());
    return file;
  }

  /** A logical bucket's settings (the defaults for one that does not exist yet). */
  async bucketSettings(tenantId: string, bucket: string): Promise<BucketSettings> {
    const key = `${tenantId}/${bucket}`;
    const hit = this.trusted ? this.buckets.peek(key)?.value : undefined;
    if (hit) return hit;
    const generation = this.generation;
    const settings = await getBucketSettings(this.pool, tenantId, bucket);
    if (this.keeps(generation)) this.buckets.set(key, settings);
    return settings;
  }

  /** Forgets files this process has just changed or deleted (the feed tells the other replicas). */
  forgetFiles(ids: string[]): void {
    this.generation++;
    for (const id of ids) this.files.delete(id);
  }

  private keeps(readAt: number): boolean {
    return this.trusted && readAt === this.generation;
  }

  private apply(change: RowChange): void {
    if (change === 'everything') return this.forgetEverything();
    if ('files' in change) return this.forgetFiles(change.files);
    this.generation++;
    for (const key of change.buckets) this.buckets.delete(key);
  }

  private forgetEverything(): void {
    this.generation++;
    this.files.clear();
    this.buckets.clear();
  }
}
