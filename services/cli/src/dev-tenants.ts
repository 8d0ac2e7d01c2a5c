import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type pg from 'pg';
import {
  applyTenant,
  defaultTenantId,
  findKey,
  listActiveKeys,
  mintKey,
  revokeKey,
  storageTenantSpec,
  type ObjectStore,
  type StorageTenantSpec,
} from '@stowage/core';

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

/** Raw dev keys kept between restarts, like the operator's Secrets: `<tenant>/<key name>` → key. */
type KeyFile = Record<string, { id: string; raw: string }>;

async function readKeyFile(path: string): Promise<KeyFile> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as KeyFile;
  } catch {
    return {};
  }
}

export interface ProvisionedKey {
  tenantId: string;
  name: string;
  raw: string;
}

/**
 * Applies the dev tenants: tenant rows, store buckets and keys. Keys live in `<dataDir>/keys.json`
 * (mode 0600) so a restart keeps them; a key that no longer works is replaced and the old one revoked.
 */
export async function provisionDevTenants(
  pool: pg.Pool,
  store: ObjectStore,
  tenants: DevTenant[],
  options: { dataDir: string; bucketPrefix: string },
): Promise<ProvisionedKey[]> {
  const keyPath = join(options.dataDir, 'keys.json');
  const saved = await readKeyFile(keyPath);
  const keys: ProvisionedKey[] = [];
  for (const tenant of tenants) {
    const id = tenant.spec.tenantId ?? defaultTenantId(tenant.namespace, tenant.name);
    const storageBucket = `${options.bucketPrefix}${id}`;
    const applied = await applyTenant(pool, {
      id,
      owner: `dev:${tenant.file}`,
      storageBucket,
      spec: tenant.spec,
    });
    if (applied.outcome === 'conflict')
      throw new Error(`${tenant.file}: tenant id ${id} belongs to ${applied.owner}`);
    await store.ensureBucket(storageBucket);
    const active = await listActiveKeys(pool, id);
    for (const spec of tenant.spec.apiKeys) {
      const slot = `${id}/${spec.name}`;
      const kept = saved[slot];
      if (kept && (await findKey(pool, kept.raw))?.keyId === kept.id) {
        keys.push({ tenantId: id, name: spec.name, raw: kept.raw });
        continue;
      }
      for (const stale of active.filter((k) => k.name === spec.name)) await revokeKey(pool, stale.id);
      const minted = await mintKey(pool, {
        tenantId: id,
        name: spec.name,
        scopes: spec.scopes,
        mode: spec.mode,
        allowedOrigins: spec.allowedOrigins,
      });
      saved[slot] = { id: minted.id, raw: minted.raw };
      keys.push({ tenantId: id, name: spec.name, raw: minted.raw });
    }
  }
  await writeFile(keyPath, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return keys;
}
