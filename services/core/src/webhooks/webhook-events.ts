import type pg from 'pg';
import type { FileRecord } from '../files/file-store.ts';
import type { KeyMode } from '../keys/api-key.ts';
import { Statement } from '../db/statement.ts';

/** What a webhook can subscribe to; `*` in a webhook's `events` means all of them. */
export const WEBHOOK_EVENTS = [
  'file.uploaded',
  'file.deleted',
  'file.expired',
  'bucket.deleted',
  'variants.ready',
  'variants.failed',
  'quota.threshold',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** Percentages of a quota whose upward crossing is a `quota.threshold` event. */
export const QUOTA_THRESHOLDS = [80, 90, 100] as const;

export interface WebhookEvent {
  tenantId: string;
  /** The mode of the files (or quota) it is about: test-mode events are the sandbox's. */
  mode: KeyMode;
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** A file as events describe it. */
export type EventFile = Pick<
  FileRecord,
  'id' | 'tenantId' | 'bucket' | 'key' | 'originalName' | 'mimetype' | 'size' | 'mode'
>;

export const fileEventData = (file: EventFile): Record<string, unknown> => ({
  tenantId: file.tenantId,
  bucket: file.bucket,
  key: file.key,
  id: file.id,
  original: file.originalName,
  size: file.size,
  mimetype: file.mimetype,
  mode: file.mode,
});

/**
 * Adds to `statement` the outbox rows of the events that `events` yield, queries of `(mode, type, data)`
 * rows (data: json that includes `mode`, see eventData) all of tenant `tenant` (an SQL expression): one
 * for every webhook of the tenant that subscribes to the event, none for a tenant without webhooks. An
 * event exists exactly if the change it reports commits. The body (`{type, timestamp, data}`, compact
 * JSON in that order) is fixed here, so every attempt sends and signs the same bytes.
 */
export function addWebhookEvents(statement: Statement, tenant: string, events: string[]): void {
  const timestamp = statement.param(new Date().toISOString());
  statement.with(
    'outbox',
    `INSERT INTO webhook_deliveries (id, tenant_id, mode, webhook, url, type, body)
     SELECT gen_random_uuid(), w.tenant_id, e.mode, w.name, w.url, e.type,
       (SELECT to_json(b)::text FROM (SELECT e.type, ${timestamp}::text AS timestamp, e.data) AS b)
     FROM webhooks w CROSS JOIN (${events.join(' UNION ALL ')}) AS e (mode, type, data)
     WHERE w.tenant_id = ${tenant} AND w.events && ARRAY['*', e.type]`,
  );
}

const dataJson = (data: Record<string, unknown>, mode: KeyMode) => JSON.stringify({ ...data, mode });

/**
 * An event's data for addWebhookEvents (an SQL json expression): `data` and `mode`, then the members
 * `known` whose values only the statement knows (SQL expressions; NULL is written as null), in that order.
 */
export function eventData(
  statement: Statement,
  data: Record<string, unknown>,
  mode: KeyMode,
  known: Record<string, string>,
): string {
  const members = Object.entries(known).map(
    ([name, value]) =>
      `|| ${statement.param(`,${JSON.stringify(name)}:`)}::text || coalesce(to_json(${value})::text, 'null')`,
  );
  // The object as JSON.stringify writes it, its closing brace moved after the members added.
  return `(left(${statement.param(dataJson(data, mode))}::text, -1) ${members.join(' ')} || '}')::json`;
}

/** A time as events give it (an SQL expression): like a JavaScript Date's JSON, or null. */
export const eventTime = (time: string): string =>
  `to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Writes events of one tenant to the outbox in one statement, in the caller's transaction (see addWebhookEvents). */
export async function emitWebhookEvents(
  client: pg.PoolClient,
  tenantId: string,
  events: Omit<WebhookEvent, 'tenantId'>[],
): Promise<void> {
  if (events.length === 0) return;
  const statement = new Statement();
  const given = `SELECT * FROM unnest(${statement.param(events.map((e) => e.mode))}::text[],
    ${statement.param(events.map((e) => e.type))}::text[],
    ${statement.param(events.map((e) => dataJson(e.data, e.mode)))}::json[])`;
  addWebhookEvents(statement, `${statement.param(tenantId)}::text`, [given]);
  await statement.run(client);
}

/** Writes one event to the outbox (see emitWebhookEvents). */
export const emitWebhookEvent = (client: pg.PoolClient, event: WebhookEvent): Promise<void> =>
  emitWebhookEvents(client, event.tenantId, [event]);

/** One event of `type` for each of `files`, all of one tenant, in the caller's transaction. */
export async function emitFileEvents(
  client: pg.PoolClient,
  type: 'file.deleted' | 'file.expired',
  files: EventFile[],
): Promise<void> {
  const tenantId = files[0]?.tenantId;
  if (tenantId === undefined) return;
  await emitWebhookEvents(
    client,
    tenantId,
    files.map((file) => ({ mode: file.mode, type, data: fileEventData(file) })),
  );
}
