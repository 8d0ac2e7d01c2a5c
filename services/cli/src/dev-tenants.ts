import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { defaultTenantId, storageTenantSpec, tenantsOwnedBy, type StorageTenantSpec } from '@stowage/core';
import { cleanupTenant, provisionTenant, type KeyVault, type ProvisionDeps } from '@stowage/operator';
import { FileKeyVault } from './file-key-vault.ts';
import { FileWebhookSecretVault } from './file-webhook-secret-vault.ts';

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

/** The signing secret of a tenant's webhooks, for dev mode to print. */
export interface WebhookSigning {
  tenantId: string;
  webhooks: string[];
  secret: string;
}

type DeletionPolicy = StorageTenantSpec['deletionPolicy'];

/** A tenant whose file is gone, undone as its deletion policy says. */
export interface RemovedTenant {
  tenantId: string;
  /** The file that declared it. */
  file: string;
  deletionPolicy: DeletionPolicy;
}

/** Dev mode's tenants are owned by their files: `dev:<file>`. */
const OWNER_PREFIX = 'dev:';

async function readPolicies(path: string): Promise<Map<string, DeletionPolicy>> {
  try {
    return new Map(
      Object.entries(JSON.parse(await readFile(path, 'utf8')) as Record<string, DeletionPolicy>),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

/**
 * Undoes the dev tenants no file declares any more, each as its remembered policy says (Retain if none
 * was remembered), and says which had anything left to undo.
 */
async function removeUndeclared(
  deps: ProvisionDeps,
  declared: Set<string>,
  policies: Map<string, DeletionPolicy>,
  vaultOf: (id: string) => KeyVault,
): Promise<RemovedTenant[]> {
  const removed: RemovedTenant[] = [];
  for (const { id, owner } of await tenantsOwnedBy(deps.pool, OWNER_PREFIX)) {
    if (declared.has(id)) continue;
    const deletionPolicy = policies.get(id) ?? 'Retain';
    const changes = await cleanupTenant(deps, { id, owner, vault: vaultOf(id), deletionPolicy });
    // A deleted tenant is gone for good; a retained one keeps its policy until a file declares it again.
    if (deletionPolicy === 'Delete') policies.delete(id);
    if (changes.length)
      removed.push({ tenantId: id, file: owner.slice(OWNER_PREFIX.length), deletionPolicy });
  }
  return removed;
}

/**
 * Provisions the dev tenants through the operator's own reconcile functions: tenant rows, store buckets
 * and keys. Keys live in `<dataDir>/keys.json` (mode 0600) instead of Secrets, so a restart keeps them.
 *
 * A tenant whose file is gone is undone as the operator undoes a deleted StorageTenant: its keys are
 * revoked, and with `deletionPolicy: Delete` its files and rows are deleted too (Retain keeps them, and a
 * file declaring the tenant again gets them back). The file that named the policy is gone by then, so
 * each tenant's policy is remembered in `<dataDir>/deletion-policies.json` before it is provisioned.
 * The signing secrets of tenants with webhooks live in `<dataDir>/webhook-secrets.json`.
 */
export async function provisionDevTenants(
  deps: ProvisionDeps,
  tenants: DevTenant[],
  options: { dataDir: string; bucketPrefix: string },
): Promise<{ keys: ProvisionedKey[]; removed: RemovedTenant[]; webhooks: WebhookSigning[] }> {
  const declared = tenants.map((t) => ({
    ...t,
    id: t.spec.tenantId ?? defaultTenantId(t.namespace, t.name),
  }));
  const vaultOf = (id: string) => new FileKeyVault(join(options.dataDir, 'keys.json'), id);
  const policiesPath = join(options.dataDir, 'deletion-policies.json');
  const policies = await readPolicies(policiesPath);

  const removed = await removeUndeclared(deps, new Set(declared.map((t) => t.id)), policies, vaultOf);
  for (const tenant of declared) policies.set(tenant.id, tenant.spec.deletionPolicy);
  await writeFile(policiesPath, JSON.stringify(Object.fromEntries(policies), null, 2));

  const keys: ProvisionedKey[] = [];
  const webhooks: WebhookSigning[] = [];
  for (const tenant of declared) {
    const vault = vaultOf(tenant.id);
    const webhookSecret = new FileWebhookSecretVault(
      join(options.dataDir, 'webhook-secrets.json'),
      tenant.id,
    );
    const result = await provisionTenant(deps, {
      id: tenant.id,
      owner: `${OWNER_PREFIX}${tenant.file}`,
      storageBucket: `${options.bucketPrefix}${tenant.id}`,
      spec: tenant.spec,
      vault,
      webhookSecret,
    });
    if (result.failure) throw new Error(`${tenant.file}: ${result.failure.step}: ${result.failure.message}`);
    for (const spec of tenant.spec.apiKeys) {
      keys.push({ tenantId: tenant.id, name: spec.name, raw: (await vault.read(spec.name))!.raw });
    }
    if (tenant.spec.webhooks.length) {
      const names = tenant.spec.webhooks.map((w) => w.name);
      webhooks.push({ tenantId: tenant.id, webhooks: names, secret: (await webhookSecret.read())! });
    }
  }
  return { keys, removed, webhooks };
}
