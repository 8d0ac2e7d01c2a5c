export { ConfigError, loadConfig, type Config, type S3Config } from './config.ts';
export { createS3Client } from './object-store/s3-client.ts';
export * from './errors.ts';
export { inErrorChain, isDependencyUnavailable } from './unavailable.ts';
export { migrate } from './db/migrate.ts';
export { withTransaction } from './db/transaction.ts';
export { Statement } from './db/statement.ts';
export {
  EmbeddedDatabaseInUse,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from './db/embedded-postgres.ts';
export * from './keys/api-key.ts';
export * from './keys/key-store.ts';
export * from './quotas/reservations.ts';
export * from './tenants/duration.ts';
export * from './tenants/quantity.ts';
export * from './tenants/storage-tenant.ts';
export * from './tenants/tenant-store.ts';
export { createLogger, type Logger } from './logger.ts';
export {
  createApiMetrics,
  createOperatorMetrics,
  createWorkerMetrics,
  createWebhookMetrics,
  type WebhookMetrics,
  type ApiMetrics,
  type OperatorMetrics,
  type WorkerMetrics,
} from './metrics.ts';
export * from './files/file-store.ts';
export {
  ObjectNotFoundError,
  compareKeys,
  discardWrite,
  type AbortStaleUploadsOptions,
  type ListedObject,
  type DirectUploads,
  type UploadedPart,
  type GetObjectOptions,
  type ObjectHead,
  type ObjectStore,
  type PutObjectOptions,
  type StoredObject,
} from './object-store/object-store.ts';
export { FilesystemObjectStore } from './object-store/filesystem-store.ts';
export { S3ObjectStore } from './object-store/s3-store.ts';
export * from './files/object-keys.ts';
export * from './files/upload-lifetimes.ts';
export * from './files/direct-upload-store.ts';
export * from './files/variant-store.ts';
export { listen, serveMetrics, type HealthChecks } from './http-server.ts';
export { every } from './every.ts';
export * from './audit/audit-store.ts';
export * from './webhooks/webhook-events.ts';
export * from './webhooks/webhook-deliveries.ts';
export * from './db/change-feed.ts';
export { checkInstallation, defaultCheckOptions, type CheckOptions } from './check/check-installation.ts';
export * from './check/check-report.ts';
export { latestCheck, type FindingCounts, type RecordedCheck } from './check/check-store.ts';
