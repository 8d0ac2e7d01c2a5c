export interface WorkQueueOptions {
  /** Keys handled at once; one key is never handled twice at the same time. */
  concurrency: number;
  /** The first retry's delay; each further failure doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** The delay before retry number `failures` (1 for the first), with up to 10% jitter against herds. */
export function backoffDelay(failures: number, options: WorkQueueOptions, random = Math.random): number {
  const delay = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (failures - 1));
  return Math.round(delay * (1 + random() / 10));
}

/**
 * A deduplicating work queue of object keys, as controller-runtime's: a key added while queued is queued
 * once; a key added while being handled is handled again afterwards, never concurrently; a handler that
 * throws has its key retried with exponential backoff, and success resets the backoff.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idle = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly options: WorkQueueOptions,
    private readonly onError: (key: string, error: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    // Whatever retry was pending, this add takes its place.
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (this.active.has(key)) {
      this.dirty.add(key);
    } else if (!this.queued.has(key)) {
      this.queued.add(key);
      this.queue.push(key);
      this.pump();
    }
  }

  /** Adds `key` after `ms`, unless something adds it sooner. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => this.add(key), ms),
    );
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.options.concurrency && this.queue.length) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      void this.handle(key);
    }
  }

  private async handle(key: string): Promise<void> {
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      this.onError(key, error);
      this.addAfter(key, backoffDelay(failures, this.options));
    } finally {
      this.active.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.active.size === 0) for (const resolve of this.idle) resolve();
    }
  }

  /** Stops taking work and waits for the handlers in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.active.size === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }
}
