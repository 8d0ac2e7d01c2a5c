import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { UsageError } from './usage-error.ts';

/** What `stw login` keeps: where the API is and the key to call it with. */
export interface Credentials {
  url: string;
  apiKey: string;
  /** The bucket of commands that name none. */
  bucket?: string;
}

/** Everything stw reads from its environment, read once at start. */
export interface Settings {
  /** The credentials file, under the user's config directory. */
  credentialsFile: string;
  /** Where unfinished and finished uploads are remembered, under the user's state directory. */
  uploadsDir: string;
  /** What the environment says instead of the credentials file. */
  overrides: Partial<Credentials>;
  /** Files of at least this many bytes go to the object store in parts (the SDK's default if unset). */
  multipartThreshold: number | undefined;
}

// An XDG variable holding a relative path is invalid and must be ignored (XDG Base Directory spec).
const baseDir = (value: string | undefined, fallback: string) =>
  value && isAbsolute(value) ? value : join(homedir(), fallback);

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const config = baseDir(env.XDG_CONFIG_HOME, '.config');
  const state = baseDir(env.XDG_STATE_HOME, join('.local', 'state'));
  const threshold = env.STW_MULTIPART_THRESHOLD;
  if (threshold !== undefined && !/^[1-9]\d*$/.test(threshold)) {
    throw new UsageError(`STW_MULTIPART_THRESHOLD must be a number of bytes, got "${threshold}"`);
  }
  return {
    credentialsFile: join(config, 'stowage', 'credentials.json'),
    uploadsDir: join(state, 'stowage'),
    overrides: {
      ...(env.STOWAGE_URL ? { url: env.STOWAGE_URL } : {}),
      ...(env.STOWAGE_API_KEY ? { apiKey: env.STOWAGE_API_KEY } : {}),
      ...(env.STOWAGE_BUCKET ? { bucket: env.STOWAGE_BUCKET } : {}),
    },
    multipartThreshold: threshold === undefined ? undefined : Number(threshold),
  };
}

async function readCredentialsFile(path: string): Promise<Partial<Credentials>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  try {
    return JSON.parse(text) as Partial<Credentials>;
  } catch {
    throw new UsageError(`${path} is not valid JSON: run \`stw login\` again`);
  }
}

/** The credentials to call the API with: the environment's, else those `stw login` kept. */
export async function credentials(settings: Settings): Promise<Credentials> {
  const found = { ...(await readCredentialsFile(settings.credentialsFile)), ...settings.overrides };
  if (!found.url || !found.apiKey) {
    throw new UsageError('not logged in: run `stw login` (or set STOWAGE_URL and STOWAGE_API_KEY)');
  }
  return { url: found.url, apiKey: found.apiKey, ...(found.bucket ? { bucket: found.bucket } : {}) };
}

/** Keeps credentials where only the user can read them: the file 0600, its directory 0700. */
export async function saveCredentials(path: string, saved: Credentials): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Written aside and renamed, so a reader never sees half a file and the mode holds from the start.
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
