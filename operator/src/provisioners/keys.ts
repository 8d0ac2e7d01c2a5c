import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  generateApiKey,
  listActiveKeys,
  registerKey,
  revokeKey,
  updateKeyGrants,
  type ApiKeySpec,
  type KeyMode,
  type KeyRecord,
} from '@stowage/core';
import type { Change } from './change.ts';
import type { KeyVault, VaultKey } from './key-vault.ts';

/** One key as the resource's status shows it: never the key itself. */
export interface KeyStatus {
  name: string;
  prefix: string;
  secretName: string;
  createdAt: string;
}

export interface EnsureKeysInput {
  tenantId: string;
  keys: ApiKeySpec[];
  /** How long a rotated key keeps working after its successor exists. */
  graceMs: number;
}

const modeOf = (raw: string): KeyMode => (raw.startsWith('stw_test_') ? 'test' : 'live');
const sameList = (a: readonly string[] | null | undefined, b: readonly string[] | null | undefined) =>
  (a ?? null) === (b ?? null) || (!!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]));

/**
 * The tenant's keys, as the spec declares them. The raw key is written to the vault before its hash is
 * registered, so a crash at any point leaves either nothing or a key its holder has, and the next run
 * finishes the job without minting a second one.
 *   - a missing, revoked or outdated (rotation or mode changed) key gets a successor;
 *   - a key replaced by rotation keeps working for the grace period; every other replaced key stops now;
 *   - keys no longer in the spec are revoked and removed from the vault.
 * Keys minted through the API (`source: api`) are not the spec's to manage and are left alone.
 */
export async function ensureKeys(
  pool: pg.Pool,
  vault: KeyVault,
  input: EnsureKeysInput,
): Promise<{ keys: KeyStatus[]; changes: Change[] }> {
  const active = await listActiveKeys(pool, input.tenantId, 'resource');
  const changes: Change[] = [];
  const keys: KeyStatus[] = [];
  for (const spec of input.keys) {
    const { record, held, minted } = await ensureKey(pool, vault, input.tenantId, spec, active);
    if (minted) changes.push(minted);
    for (const old of active.filter((k) => k.name === spec.name && k.id !== record.id)) {
      const inGrace = old.id === held.previousId;
      const until = inGrace ? new Date(record.createdAt.getTime() + input.graceMs) : undefined;
      // Already ending within its grace period: nothing to write.
      if (old.revokedAt && until && old.revokedAt <= until) continue;
      if (!old.revokedAt) changes.push(revoked(old, inGrace ? `after ${input.graceMs / 1000}s` : 'now'));
      await revokeKey(pool, old.id, until);
    }
    keys.push({
      name: spec.name,
      prefix: record.prefix,
      secretName: vault.locate(spec.name),
      createdAt: record.createdAt.toISOString(),
    });
  }
  const declared = new Set(input.keys.map((k) => k.name));
  for (const old of active.filter((k) => !declared.has(k.name))) {
    await revokeKey(pool, old.id);
    changes.push(revoked(old, 'now (removed from the spec)'));
  }
  for (const name of await vault.list()) if (!declared.has(name)) await vault.remove(name);
  return { keys, changes };
}

const revoked = (key: KeyRecord, when: string): Change => ({
  reason: 'KeyRevoked',
  message: `key ${key.name} (${key.prefix}) revoked ${when}`,
});

async function ensureKey(
  pool: pg.Pool,
  vault: KeyVault,
  tenantId: string,
  spec: ApiKeySpec,
  active: KeyRecord[],
): Promise<{ record: KeyRecord; held: VaultKey; minted?: Change }> {
  const grants = { tenantId, name: spec.name, scopes: spec.scopes, allowedOrigins: spec.allowedOrigins };
  const held = await vault.read(spec.name);
  if (held) {
    // Registered already, as a rule; only a crash between vault and database leaves it to do here.
    const record =
      active.find((k) => k.id === held.id) ??
      (await registerKey(pool, {
        ...grants,
        mode: modeOf(held.raw),
        id: held.id,
        raw: held.raw,
        source: 'resource',
      }));
    const current = !record.revokedAt || record.revokedAt > new Date();
    if (current && held.rotation === spec.rotation && modeOf(held.raw) === spec.mode) {
      if (!sameList(record.scopes, spec.scopes) || !sameList(record.allowedOrigins, spec.allowedOrigins))
        await updateKeyGrants(pool, record.id, grants);
      return { record, held };
    }
  }
  const rotated = held !== undefined && held.rotation !== spec.rotation;
  const next: VaultKey = {
    id: randomUUID(),
    raw: generateApiKey(spec.mode).raw,
    rotation: spec.rotation,
    previousId: held?.id,
  };
  await vault.write(spec.name, next);
  const record = await registerKey(pool, {
    ...grants,
    mode: spec.mode,
    id: next.id,
    raw: next.raw,
    source: 'resource',
  });
  const why = !held ? 'minted' : rotated ? 'rotated' : 'replaced';
  return {
    record,
    held: next,
    minted: {
      reason: held ? 'KeyRotated' : 'KeyMinted',
      message: `key ${spec.name} ${why}: ${record.prefix} in ${vault.locate(spec.name)}`,
    },
  };
}

/**
 * Revokes every key of the tenant now, those minted through the API included (the declaration they
 * hang off is gone), and empties the vault. Idempotent.
 */
export async function cleanupKeys(pool: pg.Pool, vault: KeyVault, tenantId: string): Promise<Change[]> {
  const changes: Change[] = [];
  for (const key of await listActiveKeys(pool, tenantId)) {
    await revokeKey(pool, key.id);
    changes.push(revoked(key, 'now (declaration deleted)'));
  }
  for (const name of await vault.list()) await vault.remove(name);
  return changes;
}
