import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
