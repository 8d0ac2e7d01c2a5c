import {
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { KeyStatus } from '../provisioners/keys.ts';
import { hasStatus } from './api-status.ts';

export const GROUP = 'stowage.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'storagetenants';
export const KIND = 'StorageTenant';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** A status condition in the metav1.Condition shape, as JSON (times are RFC 3339 strings). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** Bytes and files stored against a quota, and its percentage in use. */
export interface UsageStatus {
  usedBytes: number;
  fileCount: number;
  percentUsed: number;
}

/** What the operator reports about a StorageTenant (the CRD's status schema). */
export interface TenantStatus {
  observedGeneration?: number;
  tenantId?: string;
  bucketName?: string;
  endpoint?: string;
  conditions?: Condition[];
  usage?: UsageStatus & { test?: UsageStatus | undefined };
  apiKeys?: KeyStatus[];
}

export interface StorageTenantResource extends KubernetesObject {
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace: string; uid: string };
  /** Validated by the API server against the CRD schema; parsed again before use. */
  spec?: unknown;
  status?: TenantStatus;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** StorageTenant reads and writes, each as one request. */
export class StorageTenants {
  constructor(private readonly api: CustomObjectsApi) {}

  private ref(namespace: string, name: string) {
    return { group: GROUP, version: VERSION, plural: PLURAL, namespace, name };
  }

  /** The resource as it is now, or undefined when it is gone. */
  async get(namespace: string, name: string): Promise<StorageTenantResource | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject(this.ref(namespace, name))) as StorageTenantResource;
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Every StorageTenant, in one namespace or all; for informers. */
  async list(namespace?: string): Promise<KubernetesListObject<StorageTenantResource>> {
    const group = { group: GROUP, version: VERSION, plural: PLURAL };
    return (await (namespace
      ? this.api.listNamespacedCustomObject({ ...group, namespace })
      : this.api.listClusterCustomObject(group))) as KubernetesListObject<StorageTenantResource>;
  }

  /** Sets the finalizers, failing with 409 if the resource changed since it was read. */
  async setFinalizers(resource: StorageTenantResource, finalizers: string[]): Promise<StorageTenantResource> {
    const { namespace, name, resourceVersion } = resource.metadata;
    const body = { metadata: { finalizers, resourceVersion } };
    return (await this.api.patchNamespacedCustomObject(
      { ...this.ref(namespace, name), body },
      mergePatch,
    )) as StorageTenantResource;
  }

  /**
   * Replaces the status (through the status subresource, so the spec cannot be touched). A merge patch
   * keeps every field it does not mention, and an undefined field is not mentioned (JSON drops it): each
   * field the resource has and `status` lacks is sent as null, which removes it.
   */
  async setStatus(resource: StorageTenantResource, status: TenantStatus): Promise<void> {
    const { namespace, name } = resource.metadata;
    const removed = Object.keys(resource.status ?? {}).filter(
      (field) => status[field as keyof TenantStatus] === undefined,
    );
    const body = { status: { ...status, ...Object.fromEntries(removed.map((field) => [field, null])) } };
    await this.api.patchNamespacedCustomObjectStatus({ ...this.ref(namespace, name), body }, mergePatch);
  }
}
