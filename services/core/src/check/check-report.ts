import type { VariantName } from '../files/object-keys.ts';
import type { KeyMode } from '../keys/api-key.ts';
import type { FindingCounts, StuckState, UsageCounts } from './check-store.ts';

export const FINDING_KINDS = [
  'usage-mismatch',
  'missing-object',
  'size-mismatch',
  'orphan-object',
  'dead-reservation',
  'expired-direct-upload',
  'stuck-variants',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** One inconsistency, what --repair did about it (or would do), or why it cannot. */
export type Finding = (
  | { kind: 'usage-mismatch'; mode: KeyMode; recorded: UsageCounts; computed: UsageCounts }
  | { kind: 'missing-object'; mode: KeyMode; fileId: string; key: string; variant?: VariantName }
  | {
      kind: 'size-mismatch';
      mode: KeyMode;
      fileId: string;
      key: string;
      recordedSize: number;
      storedSize: number;
    }
  | { kind: 'orphan-object'; key: string; size: number; lastModified: Date }
  | {
      kind: 'dead-reservation';
      mode: KeyMode;
      reservationId: string;
      bytes: number;
      key: string | null;
      expiredAt: Date;
    }
  | {
      kind: 'expired-direct-upload';
      mode: KeyMode;
      uploadId: string;
      reservationId: string;
      bytes: number;
      key: string | null;
      s3UploadId: string;
      expiredAt: Date;
    }
  | { kind: 'stuck-variants'; mode: KeyMode; fileId: string; key: string; state: StuckState; since: Date }
) & {
  repaired: boolean;
  /** What was done, what --repair would do, or what a person has to. */
  action: string;
};

export interface TenantReport {
  tenantId: string;
  storageBucket: string;
  /** Findings of each kind found, and repaired; kinds with none are left out. */
  counts: Partial<Record<FindingKind, { found: number; repaired: number }>>;
  /** The findings, up to the report's `maxDetails` of each kind. */
  findings: Finding[];
  /** Findings counted but not listed, past `maxDetails`. */
  omitted: number;
}

export interface CheckReport {
  startedAt: Date;
  finishedAt: Date;
  repair: boolean;
  settings: { orphanGraceMs: number; expiredGraceMs: number; stuckAfterMs: number; maxDetails: number };
  /** Every tenant checked, with or without findings. */
  tenants: TenantReport[];
  found: number;
  repaired: number;
}

/** Collects one tenant's findings: every one counted, the first `maxDetails` of each kind kept. */
export class TenantFindings {
  readonly report: TenantReport;

  constructor(
    tenant: { id: string; storageBucket: string },
    private readonly maxDetails: number,
  ) {
    this.report = {
      tenantId: tenant.id,
      storageBucket: tenant.storageBucket,
      counts: {},
      findings: [],
      omitted: 0,
    };
  }

  add(finding: Finding): void {
    const counts = (this.report.counts[finding.kind] ??= { found: 0, repaired: 0 });
    counts.found += 1;
    if (finding.repaired) counts.repaired += 1;
    if (counts.found <= this.maxDetails) this.report.findings.push(finding);
    else this.report.omitted += 1;
  }
}

/** What each tenant has left after a run, by kind: what a recorded run keeps for the metrics. */
export function remainingCounts(report: CheckReport): FindingCounts {
  const left: FindingCounts = {};
  for (const tenant of report.tenants) {
    for (const [kind, { found, repaired }] of Object.entries(tenant.counts)) {
      if (found > repaired) (left[tenant.tenantId] ??= {})[kind] = found - repaired;
    }
  }
  return left;
}
