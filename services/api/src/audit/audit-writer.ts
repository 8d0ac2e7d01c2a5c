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
        if (!refusesData(err)) {
          this.pending.unshift(...batch);
          throw err;
        }
        await this.writeOneByOne(batch);
      }
    }
  }

  /**
   * Writes a batch the database refused for what it holds, entry by entry, so that one entry it can never
   * take does not hold back every entry after it; that one is dropped, and logged.
   */
  private async writeOneByOne(batch: AuditEntry[]): Promise<void> {
    for (const [index, entry] of batch.entries()) {
      try {
        await insertAuditEntries(this.deps.pool, [entry]);
      } catch (err) {
        if (!refusesData(err)) {
          this.pending.unshift(...batch.slice(index));
          throw err;
        }
        const { action, status, requestId } = entry;
        this.deps.logger.error({ err, action, status, requestId }, 'audit log entry refused: dropped');
      }
    }
  }

  /** Stops the timer and writes what is left; what cannot be written now is logged, not thrown. */
  async close(): Promise<void> {
    await this.stopTimer();
    await this.flush().catch((err: unknown) =>
      this.deps.logger.error({ err, lost: this.pending.length }, 'audit log entries not written at shutdown'),
    );
  }
}

/**
 * Whether the database refused the entries themselves (SQLSTATE classes 22, data exception, and 23,
 * integrity constraint violation), which no retry changes, rather than being unreachable or busy.
 */
function refusesData(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
