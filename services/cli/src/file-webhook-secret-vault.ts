import { readFile, writeFile } from 'node:fs/promises';
import type { WebhookSecretVault } from '@stowage/operator';

/**
 * Dev mode's stand-in for the `<resource>-webhooks` Secrets: one JSON file (mode 0600) with the signing
 * secret of every tenant, so a restart keeps them. Delete a tenant's entry to have a new one made.
 */
export class FileWebhookSecretVault implements WebhookSecretVault {
  constructor(
    private readonly path: string,
    private readonly tenantId: string,
  ) {}

  locate(): string {
    return `${this.path}#${this.tenantId}`;
  }

  private async load(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as Record<string, string>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  async read(): Promise<string | undefined> {
    return (await this.load())[this.tenantId];
  }

  async write(secret: string): Promise<void> {
    const secrets = await this.load();
    secrets[this.tenantId] = secret;
    await writeFile(this.path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
}
