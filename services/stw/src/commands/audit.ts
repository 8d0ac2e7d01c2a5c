import type { AuditEntry } from '@stowage/sdk/node';
import { connect } from '../connection.ts';
import type { Context } from '../context.ts';

export interface AuditFlags {
  /** ISO 8601. */
  since?: string;
  action?: string;
  /** At most this many entries, the newest. */
  limit?: number;
}

/** `stw audit`: the tenant's audit log, newest first, page after page (of the key's mode). */
export async function audit({ limit, ...filters }: AuditFlags, { settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const entries: AuditEntry[] = [];
  const pageSize = Math.min(limit ?? 1000, 1000);
  let count = 0;
  for await (const entry of client.audit({ ...filters, limit: pageSize })) {
    if (output.json) entries.push(entry);
    else output.line(row(entry));
    if (++count === limit) break;
  }
  output.document({ success: true, entries });
}

const row = (entry: AuditEntry) =>
  [
    entry.at,
    entry.action.padEnd(20),
    String(entry.status),
    (entry.keyPrefix ?? '-').padEnd(13),
    [entry.bucket, entry.key].filter(Boolean).join('/') || '-',
    entry.clientAddress ?? '-',
    entry.requestId,
  ].join('  ');
