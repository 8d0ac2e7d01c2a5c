/**
 * A small map whose entries expire after `ttlMs`, bounded to `maxEntries` (the oldest entry goes first).
 * Used to trust key and tenant lookups for about a second, which bounds how late a revocation lands, and
 * file rows and bucket settings as long (files/row-cache.ts).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The live entry for `key`, if any (wrapped, so a cached undefined is told from a missing entry). */
  peek(key: string): { value: V } | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expires > Date.now() ? { value: entry.value } : undefined;
  }

  /** Caches `value` for the lifetime, or until `notAfter` (ms since the epoch) if that comes sooner. */
  set(key: string, value: V, notAfter = Infinity): void {
    if (this.ttlMs === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: Math.min(Date.now() + this.ttlMs, notAfter) });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** The cached value, or `load()`'s result cached (undefined results are cached too, as misses). */
  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.peek(key);
    if (cached) return cached.value;
    const value = await load();
    this.set(key, value);
    return value;
  }
}
