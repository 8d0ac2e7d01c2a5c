import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { tenantUsage } from '../../files/tenant-usage.ts';
import { defineRoute } from '../route.ts';

const bytes = z.number().int().nonnegative();

const usage = z.object({
  success: z.literal(true),
  data: z.object({
    mode: z.enum(['live', 'test']).meta({
      description:
        "The key's mode: a live key reports quota.storage and live files, a test key quota.testStorage and test files",
    }),
    totalQuota: bytes.meta({ description: 'The quota, in bytes' }),
    usedQuota: bytes.meta({ description: 'Bytes stored: originals and variants' }),
    remainingQuota: bytes,
    percentUsed: z.number().nonnegative().meta({ description: 'Of the quota, to two decimals' }),
    fileCount: z.number().int().nonnegative(),
  }),
});

/** GET /usage — the tenant's quota and what is stored, in bytes. */
export function getUsage(deps: Pick<ApiDeps, 'pool'>) {
  return defineRoute({
    operationId: 'getUsage',
    method: 'get',
    path: '/usage',
    tag: 'Usage',
    summary: "The tenant's quota and what it stores, in bytes",
    description:
      'Bytes of uploads still in flight are not counted as used. Test files count against a quota of their ' +
      'own: a test key sees that one, and test uploads never move what a live key sees.',
    access: { scope: 'read', limit: 'usage' },
    responses: { 200: { description: 'Usage against the quota', schema: usage } },
  }).handle(async ({ caller }) => {
    const report = await tenantUsage(deps, caller);
    return {
      status: 200,
      body: {
        success: true,
        data: {
          mode: report.mode,
          totalQuota: report.quotaBytes,
          usedQuota: report.usedBytes,
          remainingQuota: report.remainingBytes,
          percentUsed: report.percentUsed,
          fileCount: report.fileCount,
        },
      },
    };
  });
}
