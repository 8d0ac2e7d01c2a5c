export { createApp, declaredRoutes } from './app.ts';
export { openApiDocument } from './http/openapi.ts';
export type { ApiDeps } from './deps.ts';
export { startApi, type RunningApi } from './server.ts';
export { sweepOnce } from './uploads/sweeper.ts';
export { AuditWriter } from './audit/audit-writer.ts';
export { watchRedis } from './limits/rate-limits.ts';
export { RowCache } from './files/row-cache.ts';
