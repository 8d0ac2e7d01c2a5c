import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  loadAllYaml,
  loadYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { requireEnv } from './env.ts';
import { eventually } from './poll.ts';

const repo = resolve(import.meta.dirname, '../..');

/** A client configuration for the test kube-apiserver, from the launcher's kubeconfig. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireEnv('KUBECONFIG'));
  return kc;
}

// loadYaml maps the YAML's keys (x-kubernetes-*) onto the client's model, which is what it serialises.
export const storageTenantCrd = loadYaml<V1CustomResourceDefinition>(
  readFileSync(resolve(repo, 'crds/storagetenants.stowage.dev.yaml'), 'utf8'),
);

/** Installs (or updates) the StorageTenant CRD and waits until it is established. */
export async function installStorageTenantCrd(kc = testKubeConfig()): Promise<void> {
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  const name = storageTenantCrd.metadata!.name!;
  // Test files run in parallel and may race to install it: retry until one write stands.
  await eventually(async () => {
    try {
      await extensions.createCustomResourceDefinition({ body: storageTenantCrd });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      const { resourceVersion } = (await extensions.readCustomResourceDefinition({ name })).metadata!;
      await extensions.replaceCustomResourceDefinition({
        name,
        body: { ...storageTenantCrd, metadata: { ...storageTenantCrd.metadata, resourceVersion } },
      });
    }
    return true;
  }, 'the CRD to be written');
  await eventually(async () => {
    const got = await extensions.readCustomResourceDefinition({ name });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
  }, 'the CRD to be established');
}

export async function createNamespace(
  name: string,
  labels: Record<string, string> = {},
  kc = testKubeConfig(),
): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels } } });
}

/** Namespaces stay Terminating here (there is no controller-manager), but their names are unique. */
export async function deleteNamespace(name: string, kc = testKubeConfig()): Promise<void> {
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => {});
}

/**
 * A ServiceAccount in `namespace` holding exactly the operator's RBAC (operator/rbac.yaml, bound to it),
 * and a kubeconfig file that authenticates as it, so tests prove the operator needs no more.
 */
export async function operatorAccount(namespace: string, kubeconfigPath: string): Promise<void> {
  const kc = testKubeConfig();
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const core = kc.makeApiClient(CoreV1Api);
  const roles = loadAllYaml(readFileSync(resolve(repo, 'operator/rbac.yaml'), 'utf8')) as KubernetesObject[];
  const subjects = [{ kind: 'ServiceAccount', name: 'stowage-operator', namespace }];
  const manifests: KubernetesObject[] = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'stowage-operator', namespace } },
    ...roles.map((role) => {
      const cluster = role.kind === 'ClusterRole';
      const name = cluster ? `${role.metadata!.name}-${namespace}` : role.metadata!.name!;
      return { ...role, metadata: { name, ...(!cluster && { namespace }) } };
    }),
    ...roles.map((role) => {
      const cluster = role.kind === 'ClusterRole';
      const name = cluster ? `${role.metadata!.name}-${namespace}` : role.metadata!.name!;
      return {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: cluster ? 'ClusterRoleBinding' : 'RoleBinding',
        metadata: { name, ...(!cluster && { namespace }) },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: role.kind, name },
        subjects,
      } as KubernetesObject;
    }),
  ];
  for (const manifest of manifests) await objects.create(manifest);
  const { status } = await core.createNamespacedServiceAccountToken({
    name: 'stowage-operator',
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const admin = testKubeConfig();
  const account = new KubeConfig();
  account.loadFromOptions({
    clusters: admin.clusters,
    users: [{ name: 'stowage-operator', token: status!.token }],
    contexts: [{ name: 'operator', cluster: admin.clusters[0]!.name, user: 'stowage-operator' }],
    currentContext: 'operator',
  });
  writeFileSync(kubeconfigPath, account.exportConfig(), { mode: 0o600 });
}
