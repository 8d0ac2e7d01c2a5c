import type pg from 'pg';
import { addAuditEntries, insertAuditEntries, type AuditEntry, type Statement } from '@stowage/core';

/** What an entry says of the request that made it: who, from where, which action, answered how. */
export type AuditRequest = Omit<AuditEntry, 'at' | 'bucket' | 'key' | 'details'>;

/** What a change touched, as its entry says. */
export interface AuditTarget {
  bucket?: string | undefined;
  key?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

/**
 * A request's place in the audit log, handed by the route to the domain function that makes its change.
 * That function writes the entry in the change's own transaction, so that the entry commits with the
 * change or not at all; a request that changes nothing, or fails, is logged after its response instead.
 */
export class AuditContext {
  private wroteEntry = false;

  constructor(readonly request: AuditRequest) {}

  /** Records the request's change, inside the transaction `client` holds. */
  async record(client: pg.PoolClient, target: AuditTarget): Promise<void> {
    await insertAuditEntries(client, [entryOf(this.request, target)]);
    this.wroteEntry = true;
  }

  /**
   * Adds the request's change to `statement`, written if its part `after` (the change) has a row; call
   * `wrote` once the statement did write it.
   */
  recordIn(statement: Statement, after: string, target: AuditTarget): void {
    addAuditEntries(statement, [entryOf(this.request, target)], after);
  }

  /** Notes that a statement that recordIn added to wrote the entry. */
  wrote(): void {
    this.wroteEntry = true;
  }

  /** Whether the change wrote the entry (its transaction may still have rolled back: then the request fails). */
  get written(): boolean {
    return this.wroteEntry;
  }
}

/** An entry for `request`, touching `target`. */
export const entryOf = (request: AuditRequest, target: AuditTarget = {}, at?: Date): AuditEntry => ({
  ...request,
  at,
  bucket: target.bucket ?? null,
  key: target.key ?? null,
  details: target.details ?? null,
});
