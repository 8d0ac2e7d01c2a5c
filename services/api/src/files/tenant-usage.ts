import { getUsage, unauthorized } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

export interface UsageReport {
  quotaBytes: number;
  usedBytes: number;
  remainingBytes: number;
  /** Of the quota, to two decimals; a quota of 0 is full. */
  percentUsed: number;
  fileCount: number;
}

/** What a tenant stores against its quota, in bytes. Bytes of uploads in flight are not "used". */
export async function tenantUsage(deps: Pick<ApiDeps, 'pool'>, tenantId: string): Promise<UsageReport> {
  const usage = await getUsage(deps.pool, tenantId);
  // The tenant was deleted while its key was still in this process's key cache.
  if (!usage) throw unauthorized();
  const percent = usage.quotaBytes === 0 ? 100 : (usage.usedBytes / usage.quotaBytes) * 100;
  return {
    quotaBytes: usage.quotaBytes,
    usedBytes: usage.usedBytes,
    remainingBytes: Math.max(0, usage.quotaBytes - usage.usedBytes),
    percentUsed: Math.round(percent * 100) / 100,
    fileCount: usage.fileCount,
  };
}
