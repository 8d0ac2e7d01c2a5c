import type { CoreV1Api, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { KeyVault, VaultKey } from '../provisioners/key-vault.ts';
import { hasStatus } from './api-status.ts';
import { API_VERSION, KIND, type StorageTenantResource } from './storage-tenants.ts';

export const MANAGED_BY = 'stowage-operator';
/** Labels on every key Secret: what manages it, which resource owns it (by uid) and which key it holds. */
export const labels = {
  managedBy: 'app.kubernetes.io/managed-by',
  ownerUid: 'stowage.dev/owner-uid',
  keyName: 'stowage.dev/key-name',
};
const annotations = {
  keyId: 'stowage.dev/key-id',
  rotation: 'stowage.dev/rotation',
  previousKeyId: 'stowage.dev/previous-key-id',
};

/**
 * Keys delivered as Secrets owned by their StorageTenant (so Kubernetes deletes them with it), one per
 * key: `apiKey`, `tenantId` and `endpoint`. A Secret of the same name that this resource does not own is
 * never overwritten. A vault serves one reconcile: it lists the resource's Secrets once and reads from
 * that list.
 */
export class SecretKeyVault implements KeyVault {
  private held?: Promise<Map<string, V1Secret>>;

  constructor(
    private readonly core: CoreV1Api,
    private readonly owner: StorageTenantResource,
    private readonly contents: { tenantId: string; endpoint: string },
  ) {}

  locate(keyName: string): string {
    return `${this.owner.metadata.name}-${keyName}-key`;
  }

  private get namespace() {
    return this.owner.metadata.namespace;
  }

  private owns(secret: V1Secret): boolean {
    return secret.metadata?.ownerReferences?.some((ref) => ref.uid === this.owner.metadata.uid) ?? false;
  }

  /** This resource's key Secrets by key name, listed on first use. */
  private secrets(): Promise<Map<string, V1Secret>> {
    this.held ??= this.core
      .listNamespacedSecret({
        namespace: this.namespace,
        labelSelector: `${labels.managedBy}=${MANAGED_BY},${labels.ownerUid}=${this.owner.metadata.uid}`,
      })
      .then(
        (list) =>
          new Map(
            list.items.filter((s) => this.owns(s)).map((s) => [s.metadata!.labels![labels.keyName]!, s]),
          ),
      );
    return this.held;
  }

  async read(keyName: string): Promise<VaultKey | undefined> {
    // A foreign Secret of the same name is not listed; write() finds it and refuses to replace it.
    const secret = (await this.secrets()).get(keyName);
    if (!secret) return undefined;
    const raw = secret.data?.apiKey && Buffer.from(secret.data.apiKey, 'base64').toString();
    const notes = secret.metadata?.annotations ?? {};
    const id = notes[annotations.keyId];
    // A Secret someone emptied or edited no longer holds a key we know: treat it as gone.
    if (!raw || !id) return undefined;
    return {
      id,
      raw,
      rotation: Number(notes[annotations.rotation] ?? 0),
      previousId: notes[annotations.previousKeyId],
    };
  }

  private async fetch(keyName: string): Promise<V1Secret | undefined> {
    const name = this.locate(keyName);
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace: this.namespace });
      if (!this.owns(secret)) {
        throw new Error(`Secret ${this.namespace}/${name} exists and does not belong to this StorageTenant`);
      }
      return secret;
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async write(keyName: string, key: VaultKey): Promise<void> {
    const body = this.secret(keyName, key);
    const listed = (await this.secrets()).get(keyName);
    // The answer, not the body, is what read() understands: it carries `data` and the new resourceVersion.
    const written = listed ? await this.replace(body, listed) : await this.create(keyName, body);
    (await this.secrets()).set(keyName, written);
  }

  private async create(keyName: string, body: V1Secret): Promise<V1Secret> {
    try {
      return await this.core.createNamespacedSecret({ namespace: this.namespace, body });
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
      // Not listed as ours: fetch() refuses a foreign Secret, and finds one of ours that lost its labels.
      return this.replace(body, await this.fetch(keyName));
    }
  }

  private replace(body: V1Secret, current: V1Secret | undefined): Promise<V1Secret> {
    body.metadata!.resourceVersion = current?.metadata?.resourceVersion;
    return this.core.replaceNamespacedSecret({ name: body.metadata!.name!, namespace: this.namespace, body });
  }

  private secret(keyName: string, key: VaultKey): V1Secret {
    const owner: V1OwnerReference = {
      apiVersion: API_VERSION,
      kind: KIND,
      name: this.owner.metadata.name,
      uid: this.owner.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: {
        name: this.locate(keyName),
        namespace: this.namespace,
        labels: {
          [labels.managedBy]: MANAGED_BY,
          [labels.ownerUid]: this.owner.metadata.uid,
          [labels.keyName]: keyName,
        },
        annotations: {
          [annotations.keyId]: key.id,
          [annotations.rotation]: String(key.rotation),
          ...(key.previousId && { [annotations.previousKeyId]: key.previousId }),
        },
        ownerReferences: [owner],
      },
      stringData: { apiKey: key.raw, tenantId: this.contents.tenantId, endpoint: this.contents.endpoint },
    };
  }

  async list(): Promise<string[]> {
    return [...(await this.secrets()).keys()];
  }

  async remove(keyName: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name: this.locate(keyName), namespace: this.namespace });
    } catch (error) {
      if (!hasStatus(error, 404)) throw error;
    }
    (await this.secrets()).delete(keyName);
  }
}
