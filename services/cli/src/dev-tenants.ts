import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { defaultTenantId, storageTenantSpec, type StorageTenantSpec } from '@stowage/core';
import { provisionTenant, type ProvisionDeps } from '@stowage/operator';
import { FileKeyVault } from './file-key-vault.ts';

const manifest = z.object({
  apiVersion: z.literal('stowage.dev/v1alpha1'),
  kind: z.literal('StorageTenant'),
  metadata: z.object({ name: z.string().min(1), namespace: z.string().min(1).default('default') }),
  spec: storageTenantSpec,
});

export interface DevTenant {
  file: string;
  namespace: string;
  name: string;
  spec: StorageTenantSpec;
}

/** Every StorageTenant in the YAML files of `dir`, validated against the CRD's schema. */
export async function readTenantFolder(dir: string): Promise<DevTenant[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const tenants: DevTenant[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const parsed = manifest.safeParse(doc.toJS());
      if (!parsed.success)
        throw new Error(
          `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      const { metadata, spec } = parsed.data;
      tenants.push({ file, namespace: metadata.namespace, name: metadata.name, spec });
    }
  }
  return tenants;
}

export interface ProvisionedKey {
  tenantId: string;
  name: string;
  raw: string;
}

/**
 * Provisions the dev tenants through the operator's own reconcile functions: tenant rows, store buckets
 * and keys. Keys live in `<dataDir>/keys.json` (mode 0600) instead of Secrets, so a restart keeps them.
 */
export async function provisionDevTenants(
  deps: ProvisionDeps,
  tenants: DevTenant[],
  options: { dataDir: string; bucketPrefix: string },
): Promise<ProvisionedKey[]> {
  const keys: ProvisionedKey[] = [];
  for (const tenant of tenants) {
    const id = tenant.spec.tenantId ?? defaultTenantId(tenant.namespace, tenant.name);
    const vault = new FileKeyVault(join(options.dataDir, 'keys.json'), id);
    const result = await provisionTenant(deps, {
      id,
      owner: `dev:${tenant.file}`,
      storageBucket: `${options.bucketPrefix}${id}`,
      spec: tenant.spec,
      vault,
    });
    if (result.failure) throw new Error(`${tenant.file}: ${result.failure.step}: ${result.failure.message}`);
    for (const spec of tenant.spec.apiKeys) {
      keys.push({ tenantId: id, name: spec.name, raw: (await vault.read(spec.name))!.raw });
    }
  }
  return keys;
}
