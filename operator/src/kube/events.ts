import { randomBytes } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from '@stowage/core';
import { API_VERSION, KIND, type StorageTenantResource } from './storage-tenants.ts';

export type EventType = 'Normal' | 'Warning';

/**
 * Records Kubernetes Events on StorageTenants, as `kubectl describe` shows them. Like client-go's recorder
 * it writes in the background, so reconciles do not wait for it, and an Event that cannot be written is
 * logged and dropped: Events are advisory.
 */
export class EventRecorder {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly logger: Logger,
    private readonly instance: string,
  ) {}

  record(resource: StorageTenantResource, type: EventType, reason: string, message: string): void {
    const write = this.write(resource, type, reason, message).finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  /** Waits for the Events still being written. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async write(resource: StorageTenantResource, type: EventType, reason: string, message: string) {
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
