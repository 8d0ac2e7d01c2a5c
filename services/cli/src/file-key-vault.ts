import { readFile, writeFile } from 'node:fs/promises';
import type { KeyVault, VaultKey } from '@stowage/operator';

type KeyFile = Record<string, VaultKey>;

/**
 * Dev mode's stand-in for key Secrets: one JSON file (mode 0600) for every tenant, with entries
 * `<tenantId>/<key name>`, so a restart keeps the keys.
 */
export class FileKeyVault implements KeyVault {
  constructor(
    private readonly path: string,
    private readonly tenantId: string,
  ) {}

  locate(keyName: string): string {
    return `${this.path}#${this.tenantId}/${keyName}`;
  }

  private async load(): Promise<KeyFile> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as KeyFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  private async save(keys: KeyFile): Promise<void> {
    await writeFile(this.path, JSON.stringify(keys, null, 2), { mode: 0o600 });
  }

  async read(keyName: string): Promise<VaultKey | undefined> {
    return (await this.load())[`${this.tenantId}/${keyName}`];
  }

  async write(keyName: string, key: VaultKey): Promise<void> {
    const keys = await this.load();
    keys[`${this.tenantId}/${keyName}`] = key;
    await this.save(keys);
  }

  async list(): Promise<string[]> {
    const prefix = `${this.tenantId}/`;
    return Object.keys(await this.load())
      .filter((slot) => slot.startsWith(prefix))
      .map((slot) => slot.slice(prefix.length));
  }

  async remove(keyName: string): Promise<void> {
    const slot = `${this.tenantId}/${keyName}`;
    const keys = await this.load();
    if (slot in keys) await this.save(Object.fromEntries(Object.entries(keys).filter(([s]) => s !== slot)));
  }
}
