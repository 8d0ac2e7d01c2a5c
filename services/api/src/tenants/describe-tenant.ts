import { listDeclaredBuckets, type DeclaredBucket, type Tenant } from '@stowage/core';
import { maxFileBytes, type Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';

export interface TenantDescription {
  tenant: Tenant;
  /** The largest file the tenant may upload: its own limit, within the installation's. */
  maxFileSize: number;
  buckets: DeclaredBucket[];
}

/** The caller's tenant as this API applies it (settings as fresh as the key cache), with its declared buckets. */
export async function describeTenant(
  deps: Pick<ApiDeps, 'pool' | 'config'>,
  caller: Caller,
): Promise<TenantDescription> {
  return {
    tenant: caller.tenant,
    maxFileSize: maxFileBytes(caller, deps.config.maxFileSizeLimit),
    buckets: await listDeclaredBuckets(deps.pool, caller.tenantId),
  };
}
