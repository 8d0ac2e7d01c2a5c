import { every, insertAuditEntries, type AuditEntry } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

export interface AuditWriterOptions {
  /** Entries are written at least this often (ms)... */
  flushMs?: number | undefined;
  /** ...and as soon as this many wait. */
  batchSize?: number | undefined;
  /** Entries kept while the database cannot take them; past this the oldest are dropped. */
  maxPending?: number | undefined;
}

/**
 * Writes audit entries that belong to no transaction (refusals, failures, requests that changed
 * nothing) in batches, off the request path: `add` never waits and never fails. Entries the database
 * refuses are kept and tried again with the next batch, up to `maxPending`.
 */
export class AuditWriter {
  private pending: AuditEntry[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly stopTimer: () => Promise<void>;

  constructor(
    private readonly deps: Pick<ApiDeps, 'pool' | 'logger'>,
    options: AuditWriterOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxPending = options.maxPending ?? 50_000;
    this.stopTimer = every(
      options.flushMs ?? 1000,
      () => this.flush(),
      (err) => deps.logger.warn({ err }, 'audit log write failed'),
    );
  }

  add(entry: AuditEntry): void {
    this.pending.push(entry);
    const over = this.pending.length - this.maxPending;
    if (over > 0) {
      this.pending.splice(0, over);
      this.deps.logger.error(
        { dropped: over },
        'audit log entries dropped: the database keeps refusing them',
      );
    }
    if (this.pending.length >= this.batchSize) {
      this.flush().catch((err: unknown) => this.deps.logger.warn({ err }, 'audit log write failed'));
    }
  }

  /** Writes what waits, one batch after another; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => {}).then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.batchSize);
      try {
        await insertAuditEntries(this.deps.pool, batch);
      } catch (err) {
        this.pending.unshift(...batch);
        throw err;
      }
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    await this.stopTimer();
    await this.flush();
  }
}
