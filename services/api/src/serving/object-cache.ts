import { buffer } from 'node:stream/consumers';
import { LRUCache } from 'lru-cache';
import type { ObjectStore } from '@stowage/core';

interface Location {
  bucket: string;
  key: string;
}

/**
 * Small objects kept in memory (least recently used out first), so popular thumbnails and icons are
 * served without a round trip to the store. Sound because stored objects never change: every file and
 * every variant has a key of its own (a new UUID), and a deleted file is refused for want of its row
 * (files/row-cache.ts forgets deleted rows) before the cache is asked. Concurrent misses for one object fetch it once.
 */
export class SmallObjectCache {
  private readonly cache: LRUCache<string, Buffer, Location> | undefined;

  constructor(
    store: ObjectStore,
    private readonly limits: { maxBytes: number; maxObjectBytes: number },
  ) {
    if (limits.maxBytes === 0) return;
    this.cache = new LRUCache<string, Buffer, Location>({
      maxSize: limits.maxBytes,
      sizeCalculation: (bytes) => Math.max(1, bytes.length),
      fetchMethod: async (_id, _stale, { context, signal }) =>
        buffer((await store.get({ ...context, signal })).body),
    });
  }

  /** Whether the object is in memory now. */
  holds(location: Location): boolean {
    return this.cache?.has(`${location.bucket}/${location.key}`) ?? false;
  }

  /** The object's bytes if it is small enough to keep (fetched on a miss); undefined if it is not. */
  async get(location: Location, size: number): Promise<Buffer | undefined> {
    if (!this.cache || size > this.limits.maxObjectBytes) return undefined;
    return this.cache.fetch(`${location.bucket}/${location.key}`, { context: location });
  }
}
