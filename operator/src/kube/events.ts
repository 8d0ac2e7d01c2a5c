import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '@stowage/core';
import { API_VERSION, KIND, type StorageTenantResource } from './storage-tenants.ts';

export type EventType = 'Normal' | 'Warning';

/**
 * Records Kubernetes Events on StorageTenants, as `kubectl describe` shows them. Events are advisory: one
 * that cannot be written is logged and the reconcile carries on, as client-go's recorder does.
 */
export class EventRecorder {
  constructor(
    private readonly core: CoreV1Api,
    private readonly logger: Logger,
    private readonly instance: string,
  ) {}

  async record(resource: StorageTenantResource, type: EventType, reason: string, message: string) {
    const { namespace, name, uid, resourceVersion } = resource.metadata;
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: { apiVersion: API_VERSION, kind: KIND, namespace, name, uid, resourceVersion },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'stowage-operator' },
          reportingComponent: 'stowage.dev/operator',
          reportingInstance: this.instance,
        },
      });
    } catch (error) {
      this.logger.warn({ err: error, namespace, name, reason }, 'could not record event');
    }
  }
}
