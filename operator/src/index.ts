export { startOperator, type OperatorDeps, type RunningOperator } from './controller/operator.ts';
export { PooledKubeConfig } from './kube/kube-config.ts';
export {
  cleanupTenant,
  provisionTenant,
  type DesiredTenant,
  type ProvisionDeps,
} from './provisioners/provision-tenant.ts';
export type { KeyVault, VaultKey } from './provisioners/key-vault.ts';
export type { WebhookSecretVault } from './provisioners/webhook-secret.ts';
