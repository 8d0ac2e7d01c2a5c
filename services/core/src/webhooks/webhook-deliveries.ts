import type pg from 'pg';
import { deleteInBatches } from '../db/delete-in-batches.ts';
import { badRequest } from '../errors.ts';
import type { FileOwner } from '../files/file-store.ts';
import { isUuid } from '../files/object-keys.ts';
import type { KeyMode } from '../keys/api-key.ts';

type Db = pg.Pool | pg.PoolClient;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

/** A webhook as its StorageTenant declares it. */
export interface WebhookSpec {
  name: string;
  url: string;
  events: string[];
}

/** Makes the tenant's webhooks those of its spec, in the caller's transaction (applyTenant's). */
export async function syncWebhooks(client: pg.PoolClient, tenantId: string, webhooks: WebhookSpec[]) {
  await client.query('DELETE FROM webhooks WHERE tenant_id = $1 AND NOT (name = ANY($2::text[]))', [
    tenantId,
    webhooks.map((w) => w.name),
  ]);
  for (const w of webhooks) {
    await client.query(
      `INSERT INTO webhooks (tenant_id, name, url, events) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, name) DO UPDATE SET url = EXCLUDED.url, events = EXCLUDED.events`,
      [tenantId, w.name, w.url, w.events],
    );
  }
}

/**
 * Makes `secret` the one the tenant's deliveries are signed with from their next attempt on; true if it
 * changed (a new tenant, or a Secret that was deleted and made again).
 */
export async function setWebhookSecret(pool: pg.Pool, tenantId: string, secret: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    'UPDATE tenants SET webhook_secret = $2 WHERE id = $1 AND webhook_secret IS DISTINCT FROM $2',
    [tenantId, secret],
  );
  return rowCount === 1;
}

/** One attempt at a delivery, claimed by one worker. */
export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  url: string;
  type: string;
  body: string;
  /** 1 for the first attempt. */
  attempt: number;
  secret: string;
}

/**
 * Claims up to `limit` due deliveries for one attempt each: their next attempt is pushed `leaseMs` ahead
 * (longer than a send may take), so no other worker takes them meanwhile, and a worker that dies holding
 * them only delays them by that much. SKIP LOCKED lets concurrent claims pass each other. Deliveries of
 * a tenant whose signing secret has not arrived yet wait for it.
 */
export async function claimWebhookDeliveries(
  pool: pg.Pool,
  options: { limit: number; leaseMs: number },
): Promise<ClaimedDelivery[]> {
  const { rows } = await pool.query<{
    id: string;
    tenant_id: string;
    url: string;
    type: string;
    body: string;
    attempts: number;
    webhook_secret: string;
  }>(
    `UPDATE webhook_deliveries d
     SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::float8 / 1000)
     FROM tenants t
     WHERE t.id = d.tenant_id AND d.id IN (
       SELECT w.id FROM webhook_deliveries w JOIN tenants s ON s.id = w.tenant_id
       WHERE w.status = 'pending' AND w.next_attempt_at <= now() AND s.webhook_secret IS NOT NULL
       ORDER BY w.next_attempt_at LIMIT $1 FOR UPDATE OF w SKIP LOCKED)
     RETURNING d.id, d.tenant_id, d.url, d.type, d.body, d.attempts, t.webhook_secret`,
    [options.limit, options.leaseMs],
  );
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    url: r.url,
    type: r.type,
    body: r.body,
    attempt: r.attempts,
    secret: r.webhook_secret,
  }));
}

export interface AttemptOutcome {
  startedAt: Date;
  durationMs: number;
  /** The receiver's answer, if any. */
  statusCode: number | undefined;
  /** Why the attempt failed; undefined when it delivered. */
  error: string | undefined;
  /** What becomes of the delivery: done, given up, or tried again this much later. */
  next: { status: 'delivered' | 'failed' } | { status: 'pending'; retryInMs: number };
}

/**
 * Records a claimed attempt and what follows from it. An attempt whose claim was taken over (its worker
 * stalled past the lease, or someone retried the delivery) records nothing; false then.
 */
export async function recordWebhookAttempt(
  pool: pg.Pool,
  claimed: ClaimedDelivery,
  outcome: AttemptOutcome,
): Promise<boolean> {
  const next = outcome.next;
  const { rowCount } = await pool.query(
    `WITH updated AS (
       UPDATE webhook_deliveries SET status = $3,
         next_attempt_at = now() + make_interval(secs => $4::float8 / 1000)
       WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id)
     INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error)
     SELECT id, $2, $5, $6, $7, $8 FROM updated`,
    [
      claimed.id,
      claimed.attempt,
      next.status,
      next.status === 'pending' ? next.retryInMs : 0,
      outcome.startedAt,
      Math.round(outcome.durationMs),
      outcome.statusCode ?? null,
      outcome.error?.slice(0, 500) ?? null,
    ],
  );
  return rowCount === 1;
}

/**
 * Deletes finished deliveries (delivered, or failed for good) created before `before`, with their
 * attempts; pending ones stay until they finish. Resolves to how many went.
 */
export function deleteWebhookDeliveriesBefore(db: Db, before: Date): Promise<number> {
  return deleteInBatches(db, 'webhook_deliveries', "created_at < $1 AND status <> 'pending'", [before]);
}

/** Deliveries not yet delivered nor given up on, of every tenant. */
export async function webhookBacklog(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'",
  );
  return Number(rows[0]!.n);
}

export interface WebhookAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  mode: KeyMode;
  webhook: string;
  url: string;
  type: string;
  /** The message as sent: `{type, timestamp, data}`. */
  payload: unknown;
  status: DeliveryStatus;
  createdAt: Date;
  /** When it is tried next, while pending. */
  nextAttemptAt: Date | null;
  attempts: WebhookAttempt[];
}

interface DeliveryRow {
  id: string;
  mode: KeyMode;
  webhook: string;
  url: string;
  type: string;
  body: string;
  status: DeliveryStatus;
  created_at: Date;
  next_attempt_at: Date;
  created_us: string;
  tried: {
    attempt: number;
    started_at: string;
    duration_ms: number;
    status_code: number | null;
    error: string | null;
  }[];
}

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  mode: r.mode,
  webhook: r.webhook,
  url: r.url,
  type: r.type,
  payload: JSON.parse(r.body) as unknown,
  status: r.status,
  createdAt: r.created_at,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  attempts: r.tried.map((a) => ({
    attempt: a.attempt,
    startedAt: new Date(a.started_at),
    durationMs: a.duration_ms,
    statusCode: a.status_code,
    error: a.error,
  })),
});

/** Deliveries from `source` (a table or CTE of webhook_deliveries rows) as `d`, with their attempts. */
const selectDeliveries = (source: string) =>
  `SELECT d.*, (extract(epoch FROM d.created_at) * 1000000)::bigint::text AS created_us,
     coalesce((SELECT json_agg(a ORDER BY a.attempt) FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS tried
   FROM ${source} d`;

/** Where a page of deliveries ends: created_at in microseconds since the epoch (exact), and the id. */
interface Cursor {
  t: string;
  id: string;
}

function decodeCursor(cursor: string): Cursor {
  let parsed: Partial<Cursor> | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
  } catch {
    // reported below
  }
  if (typeof parsed?.t !== 'string' || !/^\d{1,16}$/.test(parsed.t) || !isUuid(parsed.id ?? '')) {
    throw badRequest('Invalid cursor');
  }
  return { t: parsed.t, id: parsed.id! };
}

/** A page of the deliveries of `owner` (its mode's), newest first, with every attempt of each. */
export async function listWebhookDeliveries(
  db: Db,
  owner: FileOwner,
  options: { status?: DeliveryStatus | undefined; cursor?: string | undefined; limit: number },
): Promise<{ deliveries: WebhookDelivery[]; nextCursor: string | null }> {
  const params: unknown[] = [owner.tenantId, owner.mode];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['d.tenant_id = $1', 'd.mode = $2'];
  if (options.status) where.push(`d.status = ${param(options.status)}`);
  if (options.cursor) {
    const after = decodeCursor(options.cursor);
    where.push(
      `(d.created_at, d.id) < ('epoch'::timestamptz + ${param(after.t)}::bigint * interval '1 microsecond', ${param(after.id)}::uuid)`,
    );
  }
  const { rows } = await db.query<DeliveryRow>(
    `${selectDeliveries('webhook_deliveries')} WHERE ${where.join(' AND ')}
     ORDER BY d.created_at DESC, d.id DESC LIMIT ${param(options.limit + 1)}`,
    params,
  );
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > options.limit && last
      ? Buffer.from(JSON.stringify({ t: last.created_us, id: last.id })).toString('base64url')
      : null;
  return { deliveries: page.map(toDelivery), nextCursor };
}

/**
 * Makes a delivery of `owner` due now, whatever became of it (delivered, failed or still waiting): it
 * is sent once more, signed with the tenant's current secret. Undefined if `owner` has no such delivery.
 */
export async function retryWebhookDelivery(
  pool: pg.Pool,
  owner: FileOwner,
  id: string,
): Promise<WebhookDelivery | undefined> {
  const { rows } = await pool.query<DeliveryRow>(
    `WITH retried AS (
       UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()
       WHERE id = $1 AND tenant_id = $2 AND mode = $3 RETURNING *)
     ${selectDeliveries('retried')}`,
    [id, owner.tenantId, owner.mode],
  );
  return rows[0] && toDelivery(rows[0]);
}
