import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import type { WebhookSecretVault } from '../provisioners/webhook-secret.ts';
import { hasStatus } from './api-status.ts';
import { MANAGED_BY, labels } from './secret-key-vault.ts';
import { API_VERSION, KIND, type StorageTenantResource } from './storage-tenants.ts';

/** The key of the signing secret in the Secret's data. */
export const WEBHOOK_SECRET_KEY = 'webhookSecret';

/**
 * The signing secret of a StorageTenant's webhooks, in the Secret `<resource>-webhooks` that the resource
 * owns (Kubernetes deletes it with the resource). It carries the managed-by label, so deleting it queues
 * the resource, which then makes a new one; a Secret of that name that this resource does not own is
 * never overwritten.
 */
export class SecretWebhookSecretVault implements WebhookSecretVault {
  constructor(
    private readonly core: CoreV1Api,
    private readonly owner: StorageTenantResource,
  ) {}

  locate(): string {
    return `${this.owner.metadata.name}-webhooks`;
  }

  private get namespace() {
    return this.owner.metadata.namespace;
  }

  private async fetch(): Promise<V1Secret | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ name: this.locate(), namespace: this.namespace });
      if (!secret.metadata?.ownerReferences?.some((ref) => ref.uid === this.owner.metadata.uid)) {
        throw new Error(
          `Secret ${this.namespace}/${this.locate()} exists and does not belong to this StorageTenant`,
        );
      }
      return secret;
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async read(): Promise<string | undefined> {
    const data = (await this.fetch())?.data?.[WEBHOOK_SECRET_KEY];
    const secret = data && Buffer.from(data, 'base64').toString();
    // A Secret someone emptied or edited into something else no longer holds a secret: make a new one.
    return secret && secret.startsWith('whsec_') ? secret : undefined;
  }

  async write(secret: string): Promise<void> {
    const current = await this.fetch();
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: this.locate(),
        namespace: this.namespace,
        labels: { [labels.managedBy]: MANAGED_BY },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: KIND,
            name: this.owner.metadata.name,
            uid: this.owner.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        resourceVersion: current?.metadata?.resourceVersion,
      },
      stringData: { [WEBHOOK_SECRET_KEY]: secret },
    };
    if (current)
      await this.core.replaceNamespacedSecret({ name: this.locate(), namespace: this.namespace, body });
    else await this.core.createNamespacedSecret({ namespace: this.namespace, body });
  }
}
