import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RecordedCheck } from './check/check-store.ts';

/**
 * The API's Prometheus metrics. Labels are bounded: route patterns (never raw paths), status codes,
 * route classes and reasons; never a key, a file or a client address.
 */
export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stowage_api_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'stowage_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'stowage_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    bytesUploaded: new Counter({
      name: 'stowage_bytes_uploaded_total',
      help: 'Bytes stored by uploads',
      registers,
    }),
    bytesServed: new Counter({
      name: 'stowage_bytes_served_total',
      help: 'Bytes sent by file serving',
      registers,
    }),
    quotaRejections: new Counter({
      name: 'stowage_quota_rejections_total',
      help: 'Uploads refused because the tenant quota was full',
      registers,
    }),
    rateLimited: new Counter({
      name: 'stowage_rate_limited_total',
      help: 'Requests refused with 429, by route class',
      labelNames: ['class'] as const,
      registers,
    }),
    rateLimitRedisUp: new Gauge({
      name: 'stowage_rate_limit_redis_up',
      help: '1 while the shared rate-limit store (Redis) is reachable, 0 while limits are per process',
      registers,
    }),
    rateLimitFallbacks: new Counter({
      name: 'stowage_rate_limit_fallbacks_total',
      help: 'Requests limited by the per-process insurance limiter because Redis was unreachable',
      registers,
    }),
    reservationsInFlight: new Gauge({
      name: 'stowage_upload_reservations_in_flight',
      help: 'Quota reservations held by uploads in progress in this process',
      registers,
    }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** The image worker's Prometheus metrics. */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stowage_worker_' });
  const registers = [registry];
  return {
    registry,
    queueDepth: new Gauge({
      name: 'stowage_variant_queue_depth',
      help: 'Variant jobs in the queue, by state',
      labelNames: ['state'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'stowage_variant_job_duration_seconds',
      help: 'Time to make and store the variants of one image, by result',
      labelNames: ['result'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    jobPhase: new Histogram({
      name: 'stowage_variant_job_phase_seconds',
      help: 'Time a variant job spends in each phase: queued, fetch (row and original), variants (decode and encode), store (puts), record (quota and row)',
      labelNames: ['phase'] as const,
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    failures: new Counter({
      name: 'stowage_variant_failures_total',
      help: 'Variant jobs given up on (unusable images and jobs out of retries)',
      registers,
    }),
    inFlight: new Gauge({
      name: 'stowage_variant_jobs_in_flight',
      help: 'Variant jobs being processed by this worker',
      registers,
    }),
    webhooks: createWebhookMetrics(registry),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/**
 * What the latest recorded `stowage check` found (the chart's CronJob), read from the database at each
 * scrape: the check's own process is gone long before Prometheus would scrape it. No run recorded, or
 * the database unreachable: no series (the other metrics are still served).
 */
function checkGauges(
  registers: Registry[],
  readCheck: (() => Promise<RecordedCheck | undefined>) | undefined,
) {
  const read = async () => readCheck?.().catch(() => undefined);
  return {
    checkFindings: new Gauge({
      name: 'stowage_check_findings',
      help: 'Inconsistencies the latest recorded `stowage check` found and left, by tenant and kind',
      labelNames: ['tenant', 'kind'] as const,
      registers,
      async collect() {
        const check = await read();
        this.reset();
        for (const [tenant, kinds] of Object.entries(check?.findings ?? {})) {
          for (const [kind, count] of Object.entries(kinds)) this.set({ tenant, kind }, count);
        }
      },
    }),
    checkLastRun: new Gauge({
      name: 'stowage_check_last_run_timestamp_seconds',
      help: 'When the latest recorded `stowage check` finished, in Unix seconds',
      registers,
      async collect() {
        const check = await read();
        this.reset();
        if (check) this.set(check.finishedAt.getTime() / 1000);
      },
    }),
  };
}

/**
 * The operator's Prometheus metrics. Only the leader reconciles, so the per-tenant gauges are exported
 * once per installation, not by every API replica. `readCheck` reads the latest recorded
 * `stowage check` for `stowage_check_findings`.
 */
export function createOperatorMetrics(readCheck?: () => Promise<RecordedCheck | undefined>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stowage_operator_' });
  const registers = [registry];
  return {
    registry,
    ...checkGauges(registers, readCheck),
    reconciles: new Counter({
      name: 'stowage_operator_reconcile_total',
      help: 'StorageTenant reconciles, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'stowage_operator_reconcile_errors_total',
      help: 'StorageTenant reconciles that failed and will be retried, by the condition that failed',
      labelNames: ['condition'] as const,
      registers,
    }),
    statusWrites: new Counter({
      name: 'stowage_operator_status_writes_total',
      help: 'StorageTenant status patches; a reconcile that changes nothing writes none',
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'stowage_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one StorageTenant',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    isLeader: new Gauge({
      name: 'stowage_operator_is_leader',
      help: '1 while this operator process holds the Lease and reconciles',
      registers,
    }),
    tenants: new Gauge({
      name: 'stowage_operator_tenants',
      help: 'StorageTenants known to the operator, by readiness',
      labelNames: ['ready'] as const,
      registers,
    }),
    usedBytes: new Gauge({
      name: 'stowage_tenant_used_bytes',
      help: 'Bytes stored by a tenant, originals and variants',
      labelNames: ['tenant'] as const,
      registers,
    }),
    quotaBytes: new Gauge({
      name: 'stowage_tenant_quota_bytes',
      help: "A tenant's storage quota in bytes",
      labelNames: ['tenant'] as const,
      registers,
    }),
    fileCount: new Gauge({
      name: 'stowage_tenant_file_count',
      help: 'Files stored by a tenant',
      labelNames: ['tenant'] as const,
      registers,
    }),
  };
}

export type OperatorMetrics = ReturnType<typeof createOperatorMetrics>;

/**
 * Webhook delivery metrics, on the registry of the process that delivers: the worker, or `stowage dev`.
 * `result` is bounded: delivered, retry (failed, tried again later) or failed (given up on).
 */
export function createWebhookMetrics(registry: Registry) {
  const registers = [registry];
  return {
    deliveries: new Counter({
      name: 'stowage_webhook_deliveries_total',
      help: 'Webhook delivery attempts, by result: delivered, retry (to be tried again) or failed (given up)',
      labelNames: ['result'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'stowage_webhook_delivery_duration_seconds',
      help: 'Time of one webhook delivery attempt, connecting included, by result',
      labelNames: ['result'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    backlog: new Gauge({
      name: 'stowage_webhook_backlog',
      help: 'Webhook deliveries not yet delivered nor given up on, of every tenant',
      registers,
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
