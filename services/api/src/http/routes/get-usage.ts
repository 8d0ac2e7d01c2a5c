import type { Request, Response } from 'express';
import { getUsage, unauthorized } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';

/** GET /usage — the tenant's quota and what is stored, in bytes. Bytes of uploads in flight are not "used". */
export function getTenantUsage(deps: ApiDeps) {
  return async (_req: Request, res: Response) => {
    const caller = callerOf(res);
    const usage = await getUsage(deps.pool, caller.tenantId);
    // The tenant was deleted while its key was still in this process's key cache.
    if (!usage) throw unauthorized();
    const percent = usage.quotaBytes === 0 ? 100 : (usage.usedBytes / usage.quotaBytes) * 100;
    res.json({
      success: true,
      data: {
        totalQuota: usage.quotaBytes,
        usedQuota: usage.usedBytes,
        remainingQuota: Math.max(0, usage.quotaBytes - usage.usedBytes),
        percentUsed: Math.round(percent * 100) / 100,
        fileCount: usage.fileCount,
      },
    });
  };
}
