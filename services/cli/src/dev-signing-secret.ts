import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Dev mode's URL-signing secret: made once and kept in the data directory, so signed URLs survive restarts. */
export async function devSigningSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, 'signing-secret');
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await writeFile(path, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}
