import { makeInformer, type Informer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@stowage/core';
import type { CoreV1Api } from '@kubernetes/client-node';
import { KIND, type StorageTenantResource, type StorageTenants } from '../kube/storage-tenants.ts';
import { MANAGED_BY, labels } from '../kube/secret-key-vault.ts';

export interface WatchOptions {
  kubeConfig: KubeConfig;
  tenants: StorageTenants;
  core: CoreV1Api;
  /** undefined: every namespace. */
  namespace: string | undefined;
  resyncMs: number;
  logger: Logger;
  /** Called with `<namespace>/<name>` of every StorageTenant that needs a reconcile. */
  enqueue(key: string): void;
}

const RESTART_DELAY_MS = 1000;

/**
 * Informers on StorageTenants and on the key Secrets the operator made: any change to a resource, or to
 * (or deletion of) one of its Secrets, queues the resource; every resource is queued again each resync.
 */
export class TenantWatch {
  private readonly informers: Informer<KubernetesObject>[] = [];
  private resync?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: WatchOptions) {}

  async start(): Promise<void> {
    const { kubeConfig, tenants, core, namespace, enqueue } = this.options;
    const scope = namespace ? `/namespaces/${namespace}` : '';
    const tenantInformer = makeInformer<StorageTenantResource>(
      kubeConfig,
      `/apis/stowage.dev/v1alpha1${scope}/storagetenants`,
      () => tenants.list(namespace),
    );
    const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    // Updates that change neither the spec (generation) nor deletion are the operator's own status and
    // finalizer writes: reconciling again for them would only repeat the work. Resyncs catch anything else.
    const seen = new Map<string, string>();
    const markOf = (o: KubernetesObject) =>
      `${o.metadata?.generation}/${o.metadata?.deletionTimestamp ?? ''}`;
    tenantInformer.on('add', (o) => {
      seen.set(keyOf(o), markOf(o));
      enqueue(keyOf(o));
    });
    tenantInformer.on('update', (o) => {
      if (seen.get(keyOf(o)) === markOf(o)) return;
      seen.set(keyOf(o), markOf(o));
      enqueue(keyOf(o));
    });
    tenantInformer.on('delete', (o) => {
      seen.delete(keyOf(o));
      enqueue(keyOf(o));
    });

    const selector = `${labels.managedBy}=${MANAGED_BY}`;
    const secretInformer = makeInformer(
      kubeConfig,
      `/api/v1${scope}/secrets`,
      () =>
        namespace
          ? core.listNamespacedSecret({ namespace, labelSelector: selector })
          : core.listSecretForAllNamespaces({ labelSelector: selector }),
      selector,
    );
    const ownerOf = (secret: KubernetesObject) => {
      const owner = secret.metadata?.ownerReferences?.find((r) => r.kind === KIND);
      if (owner) enqueue(`${secret.metadata?.namespace}/${owner.name}`);
    };
    for (const verb of ['update', 'delete'] as const) secretInformer.on(verb, ownerOf);

    this.informers.push(tenantInformer as Informer<KubernetesObject>, secretInformer);
    for (const informer of this.informers) this.keepRunning(informer);
    await Promise.all(this.informers.map((i) => i.start()));
    this.resync = setInterval(() => {
      for (const o of tenantInformer.list()) enqueue(keyOf(o));
    }, this.options.resyncMs);
  }

  /** A watch that fails (the API server restarted, a network cut) starts again after a pause. */
  private keepRunning(informer: Informer<KubernetesObject>): void {
    informer.on('error', (error) => {
      this.options.logger.warn({ err: error }, 'watch failed; restarting');
      setTimeout(() => {
        if (!this.stopped) informer.start().catch(() => {});
      }, RESTART_DELAY_MS);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
