import { setTimeout as sleep } from 'node:timers/promises';
import { V1MicroTime, type CoordinationV1Api, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from '@stowage/core';
import { hasStatus } from './api-status.ts';

/** What a candidate watches change: the holder and its last renewal (however the client typed the time). */
const recordOf = (spec: V1LeaseSpec) =>
  `${spec.holderIdentity ?? ''}@${spec.renewTime ? new Date(spec.renewTime).getTime() : ''}`;

export interface LeaseOptions {
  namespace: string;
  name: string;
  /** This process, as written into the Lease. */
  identity: string;
  /** A holder that has not renewed for this long may be replaced. */
  leaseSeconds: number;
}

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  /** Leadership is gone (renewals failed past the deadline, or another holder took over). */
  onStoppedLeading(): void;
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: the holder renews every third of
 * the lease; others take over a lease whose record has not changed for a whole lease duration, measured on
 * their own clock (so clock skew between nodes does not matter). Updates carry the resourceVersion they
 * read, so two candidates can never both win.
 */
export class LeaderElector {
  private observed?: { record: string; at: number };
  private leading = false;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly options: LeaseOptions,
    private readonly logger: Logger,
  ) {}

  /** Tries once to take or renew the Lease; true if this process holds it afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseSeconds } = this.options;
    const now = new V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!hasStatus(error, 404)) throw error;
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: now,
        renewTime: now,
      };
      return this.write(() =>
        this.api.createNamespacedLease({ namespace, body: { metadata: { name }, spec } }),
      );
    }
    const spec = lease.spec ?? {};
    const record = recordOf(spec);
    if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
    const mine = spec.holderIdentity === identity;
    const durationMs = (spec.leaseDurationSeconds ?? leaseSeconds) * 1000;
    const free = !spec.holderIdentity || Date.now() - this.observed.at > durationMs;
    if (!mine && !free) return false;
    const body: V1Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        renewTime: now,
        acquireTime: mine && spec.acquireTime ? new V1MicroTime(spec.acquireTime) : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    return this.write(() => this.api.replaceNamespacedLease({ name, namespace, body }));
  }

  private async write(request: () => Promise<V1Lease>): Promise<boolean> {
    try {
      const written = await request();
      this.observed = { record: recordOf(written.spec ?? {}), at: Date.now() };
      return true;
    } catch (error) {
      if (hasStatus(error, 409)) return false;
      throw error;
    }
  }

  /**
   * Campaigns until `signal` aborts or leadership is lost: retries every third of the lease and gives up
   * leading when it could not renew for two thirds of it, before anyone else may take over.
   */
  async run(callbacks: LeadershipCallbacks, signal: AbortSignal): Promise<void> {
    const periodMs = (this.options.leaseSeconds * 1000) / 3;
    let renewedAt = 0;
    while (!signal.aborted) {
      let held = false;
      try {
        held = await this.tryAcquireOrRenew();
      } catch (error) {
        this.logger.warn({ err: error }, 'could not reach the leader-election Lease');
      }
      if (held) {
        renewedAt = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.logger.info({ lease: this.options.name }, 'became the leader');
          callbacks.onStartedLeading();
        }
      } else if (this.leading && Date.now() - renewedAt > 2 * periodMs) {
        this.leading = false;
        callbacks.onStoppedLeading();
        return;
      }
      await sleep(periodMs, undefined, { signal }).catch(() => {});
    }
  }

  /** Hands the Lease back on shutdown, so a standby takes over at once instead of after a lease duration. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      const spec = {
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: new V1MicroTime(),
      };
      await this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } });
    } catch (error) {
      this.logger.warn({ err: error }, 'could not release the Lease');
    }
  }
}
