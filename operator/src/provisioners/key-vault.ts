/** A raw key as its holder receives it, with what the provisioner needs to manage it. */
export interface VaultKey {
  /** The key's id in the database. */
  id: string;
  raw: string;
  /** The spec's `rotation` this key was minted for. */
  rotation: number;
  /** The key this one replaced by rotation; it keeps working until the grace period ends. */
  previousId?: string | undefined;
}

/**
 * Where a tenant's raw keys are delivered: one Secret per key in Kubernetes, a file in dev mode. A raw
 * key is written here and nowhere else.
 */
export interface KeyVault {
  read(keyName: string): Promise<VaultKey | undefined>;
  /** Creates or replaces the key held as `keyName`. */
  write(keyName: string, key: VaultKey): Promise<void>;
  /** The names of every key this vault holds for the tenant. */
  list(): Promise<string[]>;
  /** Idempotent. */
  remove(keyName: string): Promise<void>;
  /** Where the holder finds key `keyName` (a Secret's name), for status. */
  locate(keyName: string): string;
}
