import { isDeepStrictEqual } from 'node:util';
import type { CoreV1Api } from '@kubernetes/client-node';
import {
  defaultTenantId,
  getUsage,
  storageTenantSpec,
  type OperatorMetrics,
  type Usage,
} from '@stowage/core';
import type { EventRecorder } from '../kube/events.ts';
import { SecretKeyVault } from '../kube/secret-key-vault.ts';
import { SecretWebhookSecretVault } from '../kube/webhook-secret-vault.ts';
import type { StorageTenantResource, StorageTenants, TenantStatus } from '../kube/storage-tenants.ts';
import {
  cleanupTenant,
  provisionTenant,
  type ProvisionDeps,
  type ProvisionResult,
} from '../provisioners/provision-tenant.ts';
import { changedConditions, conditionsFor } from './conditions.ts';

export const FINALIZER = 'stowage.dev/cleanup';

export interface ReconcilerDeps extends ProvisionDeps {
  tenants: StorageTenants;
  core: CoreV1Api;
  events: EventRecorder;
  metrics: OperatorMetrics;
  /** The public API URL, written into key Secrets and status. */
  endpoint: string;
  bucketPrefix: string;
}

/** A reconcile that reported its failure in status and wants a retry with backoff. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
  constructor(
    readonly condition: string,
    message: string,
  ) {
    super(message);
  }
}

/** Usage as status shows it: bytes and files, and the percentage of the quota, rounded down. */
const usageStatus = (usage: Usage) => ({
  usedBytes: usage.usedBytes,
  fileCount: usage.fileCount,
  percentUsed: usage.quotaBytes ? Math.floor((usage.usedBytes * 100) / usage.quotaBytes) : 100,
});

const jsonEqual = (a: unknown, b: unknown) =>
  isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? {})), JSON.parse(JSON.stringify(b ?? {})));

/**
 * Reconciles one StorageTenant, always in the same order: fetch → finalizer → provision (tenant row,
 * bucket, keys) → one status patch, skipped when nothing changed. Every step is idempotent, so a restart at
 * any point converges.
 */
export class Reconciler {
  /** Per resource key: the tenant whose gauges it sets, if it owns one, and whether it is Ready. */
  private readonly known = new Map<string, { gauged: string | undefined; ready: boolean }>();

  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<void> {
    const stopTimer = this.deps.metrics.reconcileDuration.startTimer();
    try {
      await this.run(key);
      this.deps.metrics.reconciles.inc({ result: 'success' });
    } catch (error) {
      this.deps.metrics.reconciles.inc({ result: 'error' });
      this.deps.metrics.reconcileErrors.inc({
        condition: error instanceof ReconcileError ? error.condition : 'Fetch',
      });
      throw error;
    } finally {
      stopTimer();
    }
  }

  private async run(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    let resource = await this.deps.tenants.get(namespace, name);
    if (!resource) return this.forget(key);
    const parsed = storageTenantSpec.safeParse(resource.spec ?? {});
    if (!parsed.success) {
      const message = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      return this.report(key, resource, undefined, {
        keys: [],
        changes: [],
        failure: { step: 'DatabaseSynced', reason: 'InvalidSpec', message, retry: false },
      });
    }
    const spec = parsed.data;
    const tenantId = spec.tenantId ?? defaultTenantId(namespace, name);
    const owner = `kubernetes:${namespace}/${name}`;
    const vault = new SecretKeyVault(this.deps.core, resource, { tenantId, endpoint: this.deps.endpoint });
    const finalizers = resource.metadata.finalizers ?? [];

    if (resource.metadata.deletionTimestamp) {
      if (!finalizers.includes(FINALIZER)) return;
      const changes = await cleanupTenant(this.deps, {
        id: tenantId,
        owner,
        vault,
        deletionPolicy: spec.deletionPolicy,
      });
      for (const change of changes)
        this.deps.events.record(resource, 'Normal', change.reason, change.message);
      await this.deps.tenants.setFinalizers(
        resource,
        finalizers.filter((f) => f !== FINALIZER),
      );
      return this.forget(key);
    }
    if (!finalizers.includes(FINALIZER)) {
      resource = await this.deps.tenants.setFinalizers(resource, [...finalizers, FINALIZER]);
    }
    const result = await provisionTenant(this.deps, {
      id: tenantId,
      owner,
      storageBucket: `${this.deps.bucketPrefix}${tenantId}`,
      spec,
      vault,
      webhookSecret: new SecretWebhookSecretVault(this.deps.core, resource),
    });
    for (const change of result.changes) {
      this.deps.events.record(resource, 'Normal', change.reason, change.message);
    }
    await this.report(key, resource, tenantId, result);
  }

  /** Writes status if it changed, records Events for condition changes, updates gauges; throws to retry. */
  private async report(
    key: string,
    resource: StorageTenantResource,
    tenantId: string | undefined,
    result: ProvisionResult,
  ): Promise<void> {
    const previous = resource.status ?? {};
    const conditions = conditionsFor(result, resource.metadata.generation ?? 0, previous.conditions);
    // Until the tenant row is synced, the tenant id may be someone else's: show nothing of theirs.
    const ours = tenantId && result.failure?.step !== 'DatabaseSynced' ? tenantId : undefined;
    const usage = ours ? await getUsage(this.deps.pool, ours) : undefined;
    // Test files count against quota.testStorage, apart from the live usage the printer columns show.
    const testUsage = ours ? await getUsage(this.deps.pool, ours, 'test') : undefined;
    const status: TenantStatus = {
      ...previous,
      observedGeneration: resource.metadata.generation ?? 0,
      tenantId,
      bucketName: ours && `${this.deps.bucketPrefix}${ours}`,
      endpoint: this.deps.endpoint,
      conditions,
      apiKeys: result.failure ? previous.apiKeys : result.keys,
      usage: usage && { ...usageStatus(usage), test: testUsage && usageStatus(testUsage) },
    };
    if (!jsonEqual(status, resource.status)) {
      await this.deps.tenants.setStatus(resource, status);
      this.deps.metrics.statusWrites.inc();
    }
    for (const condition of changedConditions(previous.conditions, conditions)) {
      if (condition.type !== 'Ready' && condition.status !== 'False') continue;
      const type = condition.status === 'True' ? 'Normal' : 'Warning';
      this.deps.events.record(resource, type, condition.reason, `${condition.type}: ${condition.message}`);
    }
    this.track(key, ours, usage, !result.failure);
    if (result.failure?.retry) throw new ReconcileError(result.failure.step, result.failure.message);
  }

  /** Sets the tenant's gauges (only for a tenant this resource owns, so `usage` is set) and readiness. */
  private track(key: string, tenantId: string | undefined, usage: Usage | undefined, ready: boolean): void {
    const gauged = usage && tenantId;
    const before = this.known.get(key)?.gauged;
    if (before && before !== gauged) this.dropGauges(before);
    if (gauged) {
      this.deps.metrics.usedBytes.set({ tenant: gauged }, usage.usedBytes);
      this.deps.metrics.quotaBytes.set({ tenant: gauged }, usage.quotaBytes);
      this.deps.metrics.fileCount.set({ tenant: gauged }, usage.fileCount);
    }
    this.known.set(key, { gauged: gauged || undefined, ready });
    this.countReady();
  }

  private forget(key: string): void {
    const gauged = this.known.get(key)?.gauged;
    if (gauged) this.dropGauges(gauged);
    this.known.delete(key);
    this.countReady();
  }

  private dropGauges(tenantId: string): void {
    for (const gauge of [
      this.deps.metrics.usedBytes,
      this.deps.metrics.quotaBytes,
      this.deps.metrics.fileCount,
    ])
      gauge.remove({ tenant: tenantId });
  }

  private countReady(): void {
    const ready = [...this.known.values()].filter((t) => t.ready).length;
    this.deps.metrics.tenants.set({ ready: 'true' }, ready);
    this.deps.metrics.tenants.set({ ready: 'false' }, this.known.size - ready);
  }
}
