import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { setWebhookSecret } from '@stowage/core';
import type { Change } from './change.ts';

/**
 * Where a tenant's webhook signing secret is kept for its owner to read: the Secret `<resource>-webhooks`
 * in Kubernetes, a file in dev mode.
 */
export interface WebhookSecretVault {
  read(): Promise<string | undefined>;
  /** Creates or replaces the secret. */
  write(secret: string): Promise<void>;
  /** Where the owner finds it (the Secret's name), for Events. */
  locate(): string;
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * The signing secret of a tenant that declares webhooks: made once and kept in the vault, and handed to
 * the workers through the tenant's row. A vault that lost it (a deleted Secret) gets a new one, which
 * signs every attempt from then on. The vault is written before the row, so a crash in between leaves a
 * secret the owner has, which the next run hands over.
 */
export async function ensureWebhookSecret(
  pool: pg.Pool,
  vault: WebhookSecretVault,
  tenant: { id: string; webhooks: unknown[] },
): Promise<Change[]> {
  if (tenant.webhooks.length === 0) return [];
  let secret = await vault.read();
  const made = secret === undefined;
  if (secret === undefined) {
    secret = newWebhookSecret();
    await vault.write(secret);
  }
  if (!(await setWebhookSecret(pool, tenant.id, secret))) return [];
  return [
    {
      reason: made ? 'WebhookSecretCreated' : 'WebhookSecretApplied',
      message: `webhooks are signed with the secret in ${vault.locate()}`,
    },
  ];
}
