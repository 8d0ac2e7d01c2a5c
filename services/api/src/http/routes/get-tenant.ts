import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { describeTenant } from '../../tenants/describe-tenant.ts';
import { defineRoute } from '../route.ts';

const bytes = z.number().int().nonnegative();
const perMinute = z.number().int().positive();

const tenantView = z.object({
  success: z.literal(true),
  tenant: z.object({
    tenantId: z.string(),
    displayName: z.string(),
    quota: z.object({
      storage: bytes.meta({ description: 'Bytes the tenant may store, originals and variants' }),
      maxFileSize: bytes.meta({
        description: "The largest file, in bytes (within the installation's limit)",
      }),
      testStorage: bytes.meta({
        description: 'Bytes files uploaded with test keys may store, apart from storage',
      }),
    }),
    rateLimits: z
      .object({ upload: perMinute, list: perMinute, delete: perMinute, usage: perMinute })
      .meta({ description: 'Requests per minute, per API key, by route class' }),
    allowedOrigins: z.array(z.string()).meta({ description: 'Empty: any origin' }),
    buckets: z
      .array(
        z.object({
          name: z.string(),
          public: z.boolean(),
          allowedTypes: z.array(z.string()),
          expireAfter: z
            .number()
            .int()
            .positive()
            .nullable()
            .meta({ description: 'Seconds files live after upload; null: kept until deleted' }),
        }),
      )
      .meta({
        description:
          'The buckets the StorageTenant declares; others are made by uploads, public and for any type',
      }),
    storage: z.enum(['managed', 'byo']).meta({
      description: "`managed`: the platform's object store; `byo`: a bucket the tenant brings",
    }),
  }),
});

/** GET /tenant — the caller's tenant: quota, limits, origins and declared buckets. */
export function getTenant(deps: Pick<ApiDeps, 'pool' | 'config'>) {
  return defineRoute({
    operationId: 'getTenant',
    method: 'get',
    path: '/tenant',
    tag: 'Tenant',
    summary: "The caller's tenant: quota, rate limits, origins and declared buckets",
    description: 'Byte quantities are numbers of bytes.',
    access: { scope: 'read', limit: 'usage' },
    responses: { 200: { description: 'The tenant', schema: tenantView } },
  }).handle(async ({ caller }) => {
    const { tenant, maxFileSize, buckets } = await describeTenant(deps, caller);
    return {
      status: 200,
      body: {
        success: true,
        tenant: {
          tenantId: tenant.id,
          displayName: tenant.displayName,
          quota: { storage: tenant.quotaBytes, maxFileSize, testStorage: tenant.testQuotaBytes },
          rateLimits: tenant.rateLimits,
          allowedOrigins: tenant.allowedOrigins,
          buckets,
          storage: 'managed',
        },
      },
    };
  });
}
