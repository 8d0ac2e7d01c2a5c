import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startCliServer, type CliServer } from './cli.ts';
import { requireEnv } from './env.ts';
import { operatorAccount, testKubeConfig } from './kube.ts';
import { eventually } from './poll.ts';

/** The S3 settings of the test environment, as a Stowage process reads them. */
export const s3Env = (): NodeJS.ProcessEnv => ({
  S3_ENDPOINT: requireEnv('S3_ENDPOINT'),
  S3_REGION: requireEnv('S3_REGION'),
  S3_ACCESS_KEY_ID: requireEnv('S3_ACCESS_KEY_ID'),
  S3_SECRET_ACCESS_KEY: requireEnv('S3_SECRET_ACCESS_KEY'),
  S3_FORCE_PATH_STYLE: 'true',
});

export interface OperatorSettings {
  namespace: string;
  databaseUrl: string;
  /** The API URL written into key Secrets. */
  publicUrl: string;
  identity?: string;
  env?: NodeJS.ProcessEnv;
  /** How long start-up may take (see CliOptions). */
  startDeadlineMs?: number;
}

/** A running `stowage operator`; it has no API, so its `url` answers nothing. */
export type OperatorProcess = CliServer;

/**
 * Runs `stowage operator` as a ServiceAccount holding only operator/rbac.yaml, watching `namespace`,
 * with its Lease there too. Short lease and resync periods keep the tests quick.
 */
export class OperatorHarness {
  private kubeconfig?: string;

  constructor(private readonly settings: OperatorSettings) {}

  /** Authenticates as the operator's ServiceAccount (after the first start). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfig!);
    return kc;
  }

  async start(identity = this.settings.identity ?? 'operator-a'): Promise<OperatorProcess> {
    if (!this.kubeconfig) {
      this.kubeconfig = join(mkdtempSync(join(tmpdir(), 'operator-')), 'kubeconfig');
      await operatorAccount(this.settings.namespace, this.kubeconfig);
    }
    return startCliServer(
      'operator',
      {
        ...s3Env(),
        KUBECONFIG: this.kubeconfig,
        DATABASE_URL: this.settings.databaseUrl,
        PUBLIC_URL: this.settings.publicUrl,
        POD_NAME: identity,
        POD_NAMESPACE: this.settings.namespace,
        WATCH_NAMESPACE: this.settings.namespace,
        OPERATOR_LEASE_SECONDS: '3',
        OPERATOR_RESYNC_SECONDS: '2',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        ...this.settings.env,
      },
      { startDeadlineMs: this.settings.startDeadlineMs },
    );
  }
}

/** One sample of a metric in Prometheus text, e.g. `stowage_operator_is_leader`; undefined if absent. */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const target = { group: 'stowage.dev', version: 'v1alpha1', plural: 'storagetenants' };

export interface TenantResource {
  metadata: { name: string; namespace: string; generation: number; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    tenantId?: string;
    bucketName?: string;
    endpoint?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    usage?: {
      usedBytes: number;
      fileCount: number;
      percentUsed: number;
      test?: { usedBytes: number; fileCount: number; percentUsed: number };
    };
    apiKeys?: { name: string; prefix: string; secretName: string; createdAt: string }[];
  };
}

/** StorageTenants in one namespace, as an admin applies them with kubectl. */
export class TenantApi {
  private readonly custom = testKubeConfig().makeApiClient(CustomObjectsApi);

  constructor(readonly namespace: string) {}

  create(name: string, spec: Record<string, unknown>): Promise<TenantResource> {
    return this.custom.createNamespacedCustomObject({
      ...target,
      namespace: this.namespace,
      body: { apiVersion: 'stowage.dev/v1alpha1', kind: 'StorageTenant', metadata: { name }, spec },
    }) as Promise<TenantResource>;
  }

  get(name: string): Promise<TenantResource> {
    return this.custom.getNamespacedCustomObject({
      ...target,
      namespace: this.namespace,
      name,
    }) as Promise<TenantResource>;
  }

  /** Replaces the spec (read-modify-write, retried on conflict). */
  async updateSpec(name: string, change: (spec: Record<string, unknown>) => void): Promise<TenantResource> {
    return eventually(async () => {
      const current = await this.get(name);
      change(current.spec);
      return (await this.custom.replaceNamespacedCustomObject({
        ...target,
        namespace: this.namespace,
        name,
        body: current,
      })) as TenantResource;
    }, `an update of ${name}`);
  }

  delete(name: string): Promise<unknown> {
    return this.custom.deleteNamespacedCustomObject({ ...target, namespace: this.namespace, name });
  }

  /** Whether the resource is gone (its finalizer has run). */
  async gone(name: string): Promise<boolean> {
    try {
      await this.get(name);
      return false;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return true;
      throw err;
    }
  }

  async list(): Promise<TenantResource[]> {
    const list = (await this.custom.listNamespacedCustomObject({ ...target, namespace: this.namespace })) as {
      items: TenantResource[];
    };
    return list.items;
  }

  /** How many of the namespace's resources are Ready for their current generation. */
  async readyCount(): Promise<number> {
    return (await this.list()).filter(
      (t) =>
        t.status?.observedGeneration === t.metadata.generation &&
        t.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
  }

  /** Waits until the resource's condition `type` has `status` for its current generation. */
  waitFor(name: string, type = 'Ready', status = 'True'): Promise<TenantResource> {
    return eventually(async () => {
      const tenant = await this.get(name);
      const condition = tenant.status?.conditions?.find((c) => c.type === type);
      const current = tenant.status?.observedGeneration === tenant.metadata.generation;
      return current && condition?.status === status ? tenant : undefined;
    }, `${name} to have ${type}=${status}`);
  }
}
