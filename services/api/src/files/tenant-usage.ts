import { getUsage, unauthorized, type FileOwner, type KeyMode } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';

export interface UsageReport {
  /** Whose quota: live files' (quota.storage), or the test sandbox's (quota.testStorage). */
  mode: KeyMode;
  quotaBytes: number;
  usedBytes: number;
  remainingBytes: number;
  /** Of the quota, to two decimals; a quota of 0 is full. */
  percentUsed: number;
  fileCount: number;
}

/**
 * What a tenant stores against the quota of the owner's mode, in bytes: a live key sees quota.storage
 * and live files, a test key quota.testStorage and the sandbox's files. Bytes of uploads in flight are
 * not "used".
 */
export async function tenantUsage(deps: Pick<ApiDeps, 'pool'>, owner: FileOwner): Promise<UsageReport> {
  const usage = await getUsage(deps.pool, owner.tenantId, owner.mode);
  // The tenant was deleted while its key was still in this process's key cache.
  if (!usage) throw unauthorized();
  const percent = usage.quotaBytes === 0 ? 100 : (usage.usedBytes / usage.quotaBytes) * 100;
  return {
    mode: owner.mode,
    quotaBytes: usage.quotaBytes,
    usedBytes: usage.usedBytes,
    remainingBytes: Math.max(0, usage.quotaBytes - usage.usedBytes),
    percentUsed: Math.round(percent * 100) / 100,
    fileCount: usage.fileCount,
  };
}
