import type pg from 'pg';
import type { FileRecord } from '../files/file-store.ts';
import type { KeyMode } from '../keys/api-key.ts';

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
 * Writes events of one tenant to the outbox, each for every webhook of the tenant that subscribes to
 * it, in the caller's transaction: an event exists exactly if the change it reports commits. One
 * statement, whatever the number of events, and no row for a tenant without webhooks. The body
 * (`{type, timestamp, data}`) is fixed here, so every attempt sends and signs the same bytes.
 */
export async function emitWebhookEvents(
  client: pg.PoolClient,
  tenantId: string,
  events: Omit<WebhookEvent, 'tenantId'>[],
): Promise<void> {
  if (events.length === 0) return;
  const timestamp = new Date().toISOString();
  const body = (e: Omit<WebhookEvent, 'tenantId'>) =>
    JSON.stringify({ type: e.type, timestamp, data: { ...e.data, mode: e.mode } });
  await client.query(
    `INSERT INTO webhook_deliveries (id, tenant_id, mode, webhook, url, type, body)
     SELECT gen_random_uuid(), w.tenant_id, e.mode, w.name, w.url, e.type, e.body
     FROM webhooks w CROSS JOIN unnest($2::text[], $3::text[], $4::text[]) AS e (mode, type, body)
     WHERE w.tenant_id = $1 AND w.events && ARRAY['*', e.type]`,
    [tenantId, events.map((e) => e.mode), events.map((e) => e.type), events.map(body)],
  );
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
