export { startOperator, type OperatorDeps, type RunningOperator } from './controller/operator.ts';
export { FINALIZER } from './controller/reconciler.ts';
export { PooledKubeConfig } from './kube/kube-config.ts';
export {
  cleanupTenant,
  provisionTenant,
  type DesiredTenant,
  type ProvisionDeps,
  type ProvisionResult,
} from './provisioners/provision-tenant.ts';
export type { KeyVault, VaultKey } from './provisioners/key-vault.ts';
export type { Change } from './provisioners/change.ts';
