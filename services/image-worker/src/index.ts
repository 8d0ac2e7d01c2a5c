export { processVariantJob, type VariantJobDeps } from './jobs/process-variant-job.ts';
export { startInProcessVariants } from './queue/in-process-runner.ts';
export {
  makeVariants,
  UnusableImageError,
  type Variant,
  type VariantLimits,
} from './variants/make-variants.ts';
export { startQueueWorker, type QueueOptions } from './queue/bullmq-runner.ts';
export { startWebhookDelivery, retryDelayMs, type WebhookDeliveryDeps } from './webhooks/deliver-webhooks.ts';
