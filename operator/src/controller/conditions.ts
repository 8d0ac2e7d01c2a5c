import { provisionSteps, type ProvisionResult } from '../provisioners/provision-tenant.ts';
import type { Condition } from '../kube/storage-tenants.ts';

const satisfied: Record<(typeof provisionSteps)[number], { reason: string; message: string }> = {
  DatabaseSynced: { reason: 'TenantSynced', message: 'quota, rate limits, origins and buckets are applied' },
  BucketReady: { reason: 'BucketExists', message: 'the storage bucket exists' },
  KeysReady: { reason: 'KeysDelivered', message: 'every declared key is in its Secret' },
};

/**
 * The conditions a provisioning result amounts to: steps before a failure are True, the failed one is
 * False with its reason, later ones Unknown; Ready sums them up. Transition times are kept from `previous`
 * for conditions whose status did not change.
 */
export function conditionsFor(
  result: ProvisionResult,
  generation: number,
  previous: Condition[] = [],
  now = new Date(),
): Condition[] {
  const failedAt = result.failure ? provisionSteps.indexOf(result.failure.step) : provisionSteps.length;
  const steps = provisionSteps.map((type, i): Omit<Condition, 'lastTransitionTime'> => {
    if (i < failedAt) return { type, status: 'True', observedGeneration: generation, ...satisfied[type] };
    if (i === failedAt) {
      const { reason, message } = result.failure!;
      return { type, status: 'False', observedGeneration: generation, reason, message };
    }
    const blocker = provisionSteps[failedAt]!;
    return {
      type,
      status: 'Unknown',
      observedGeneration: generation,
      reason: 'Blocked',
      message: `waiting for ${blocker}`,
    };
  });
  const ready: Omit<Condition, 'lastTransitionTime'> = result.failure
    ? {
        type: 'Ready',
        status: 'False',
        observedGeneration: generation,
        reason: result.failure.reason,
        message: result.failure.message,
      }
    : {
        type: 'Ready',
        status: 'True',
        observedGeneration: generation,
        reason: 'Provisioned',
        message: 'the tenant is ready for use',
      };
  return [ready, ...steps].map((condition) => {
    const before = previous.find((p) => p.type === condition.type);
    const lastTransitionTime =
      before?.status === condition.status
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...condition, lastTransitionTime };
  });
}

/** The conditions whose status or reason changed, to report as Events. */
export function changedConditions(previous: Condition[] = [], next: Condition[]): Condition[] {
  return next.filter((c) => {
    const before = previous.find((p) => p.type === c.type);
    return before?.status !== c.status || before.reason !== c.reason;
  });
}
