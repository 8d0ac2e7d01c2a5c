import { Stowage } from '@stowage/sdk/node';
import { credentials, type Credentials, type Settings } from './settings.ts';
import { UsageError } from './usage-error.ts';

/** The SDK's client, set up from the credentials and settings. */
export interface Connection {
  client: Stowage;
  credentials: Credentials;
}

export function clientFor(found: Credentials, settings: Settings): Stowage {
  return new Stowage({
    baseUrl: found.url,
    apiKey: found.apiKey,
    ...(settings.multipartThreshold ? { multipartThreshold: settings.multipartThreshold } : {}),
  });
}

export async function connect(settings: Settings): Promise<Connection> {
  const found = await credentials(settings);
  return { client: clientFor(found, settings), credentials: found };
}

/** The bucket a command works on: the one it names, else the default one. */
export function bucketOf(named: string | undefined, found: Credentials): string {
  const bucket = named ?? found.bucket;
  if (!bucket) {
    throw new UsageError('no bucket: name one, or set a default (`stw login --bucket` or STOWAGE_BUCKET)');
  }
  return bucket;
}
