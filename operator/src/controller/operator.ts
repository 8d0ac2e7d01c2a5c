import { hostname } from 'node:os';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  serveMetrics,
  type Config,
  type Logger,
  type ObjectStore,
  type OperatorMetrics,
} from '@stowage/core';
import type pg from 'pg';
import { EventRecorder } from '../kube/events.ts';
import { LeaderElector } from '../kube/lease.ts';
import { StorageTenants } from '../kube/storage-tenants.ts';
import { Reconciler } from './reconciler.ts';
import { TenantWatch } from './watch.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorDeps {
  config: Config;
  kubeConfig: KubeConfig;
  pool: pg.Pool;
  store: ObjectStore;
  logger: Logger;
  metrics: OperatorMetrics;
}

export interface RunningOperator {
  /** /metrics, next to /healthz and /readyz. */
  metricsUrl: string;
  /** Settles when this process lost leadership; it must exit then (a restart rejoins as a standby). */
  lost: Promise<void>;
  /** Stops reconciling, lets reconciles in progress finish and hands the Lease back. */
  stop(): Promise<void>;
}

/**
 * Runs the operator: campaigns for the Lease, and while leading watches StorageTenants and reconciles each
 * on a work queue (one at a time per resource, exponential backoff on errors).
 */
export async function startOperator(deps: OperatorDeps): Promise<RunningOperator> {
  const { config, kubeConfig, logger, metrics } = deps;
  const settings = config.operator;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const tenants = new StorageTenants(kubeConfig.makeApiClient(CustomObjectsApi));
  const identity = settings.identity ?? hostname();
  const events = new EventRecorder(core, logger, identity);
  const reconciler = new Reconciler({
    ...deps,
    keyGraceMs: settings.keyRotationGraceMs,
    tenants,
    core,
    events,
    endpoint: config.http.publicUrl,
    bucketPrefix: config.s3.bucketPrefix,
  });
  const queue = new WorkQueue(
    (key) => reconciler.reconcile(key),
    { concurrency: settings.concurrency, baseDelayMs: 500, maxDelayMs: 5 * 60_000 },
    (key, error) => logger.warn({ resource: key, err: error }, 'reconcile failed; retrying with backoff'),
  );
  const watch = new TenantWatch({
    kubeConfig,
    tenants,
    core,
    namespace: settings.watchNamespace,
    resyncMs: settings.resyncSeconds * 1000,
    logger,
    enqueue: (key) => queue.add(key),
  });
  const elector = new LeaderElector(
    kubeConfig.makeApiClient(CoordinationV1Api),
    {
      namespace: settings.leaseNamespace,
      name: settings.leaseName,
      identity,
      leaseSeconds: settings.leaseSeconds,
    },
    logger,
  );
  metrics.isLeader.set(0);
  const campaign = new AbortController();
  const lost = new Promise<void>((resolve) => {
    void elector.run(
      {
        onStartedLeading() {
          metrics.isLeader.set(1);
          watch.start().catch((error: unknown) => logger.error({ err: error }, 'could not start watching'));
        },
        onStoppedLeading() {
          metrics.isLeader.set(0);
          logger.error('lost the leader-election Lease; stopping');
          resolve();
        },
      },
      campaign.signal,
    );
  });
  const served = await serveMetrics(metrics.registry, config.http.metricsPort, config.http.host);
  logger.info({ identity, lease: settings.leaseName, metrics: served.url }, 'stowage-operator running');
  return {
    metricsUrl: served.url,
    lost,
    async stop() {
      campaign.abort();
      await watch.stop();
      await queue.stop();
      await events.flush();
      await elector.release();
      served.server.close();
    },
  };
}
