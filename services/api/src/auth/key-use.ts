import { recordKeyUse } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

/**
 * Records when keys were last used, to the minute, at the cost of at most one write per key per minute
 * in each process. The write runs in the background: a request never waits for it, and a failed one
 * never fails a request (lastUsedAt is a hint for people; the next minute writes again).
 */
export class KeyUseRecorder {
  private minute = 0;
  /** Keys already recorded this minute; emptied when the minute changes, so it stays small. */
  private readonly recorded = new Set<string>();

  constructor(private readonly deps: Pick<ApiDeps, 'pool' | 'logger'>) {}

  record(keyId: string): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.recorded.clear();
    }
    if (this.recorded.has(keyId)) return;
    this.recorded.add(keyId);
    recordKeyUse(this.deps.pool, keyId).catch((err: unknown) =>
      this.deps.logger.warn({ err, keyId }, 'could not record when an API key was last used'),
    );
  }
}
