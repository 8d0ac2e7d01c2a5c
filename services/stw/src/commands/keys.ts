import type { ApiKeyInfo, NewKey } from '@stowage/sdk/node';
import { connect } from '../connection.ts';
import type { Context } from '../context.ts';

/** `stw keys ls`: the tenant's keys, without their secrets. */
export async function listKeys({ settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.listKeys();
  output.document(result);
  for (const key of result.keys) output.line(keyRow(key));
}

export interface CreateKeyFlags {
  scopes: NewKey['scopes'];
  mode: NewKey['mode'];
  expires?: string;
  origin?: string[];
}

/** `stw keys create <name>`: mints a key and prints its secret, shown this once. */
export async function createKey(name: string, flags: CreateKeyFlags, { settings, output }: Context) {
  const { client } = await connect(settings);
  const result = await client.createKey({
    name,
    scopes: flags.scopes,
    mode: flags.mode,
    ...(flags.origin ? { allowedOrigins: flags.origin } : {}),
    ...(flags.expires ? { expiresAt: flags.expires } : {}),
  });
  output.document(result);
  output.line(keyRow(result.key));
  output.line(`${result.apiKey}\n(the key is shown this once: keep it now)`);
}

/** `stw keys revoke <id>`: a key minted through the API stops working. */
export async function revokeKey(id: string, { settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.revokeKey(id);
  output.document(result);
  output.line(`revoked ${result.id}`);
}

const keyRow = (key: ApiKeyInfo) =>
  [
    key.id,
    key.prefix.padEnd(14),
    key.mode,
    key.scopes.join(',').padEnd(16),
    key.source.padEnd(8),
    key.expiresAt ? `expires ${key.expiresAt}` : 'no expiry',
    key.name,
  ].join('  ');
