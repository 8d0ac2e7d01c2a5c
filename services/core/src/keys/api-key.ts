import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type KeyMode = 'live' | 'test';
export const scopes = ['read', 'write', 'admin'] as const;
export type Scope = (typeof scopes)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = new RegExp(
  `^stw_(live|test)_([0-9A-Za-z]{${RANDOM_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A base62 checksum tail, so secret scanners (and we) can tell a real key from a typo without a lookup. */
function checksum(body: string): string {
  let n = createHash('sha256').update(body).digest().readUInt32BE(0);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface GeneratedKey {
  raw: string;
  hash: Buffer;
  /** The part of the key that may be shown to people: mode and the first four random characters. */
  prefix: string;
}

/** Makes a new key `stw_<mode>_<32 base62><6 base62 checksum>`. */
export function generateApiKey(mode: KeyMode): GeneratedKey {
  const body = `stw_${mode}_${randomBase62(RANDOM_LENGTH)}`;
  const raw = body + checksum(body);
  return { raw, hash: hashApiKey(raw), prefix: publicPrefix(raw) };
}

/** The part of a key that may be shown and indexed: `stw_<mode>_` and four random characters. */
export function publicPrefix(raw: string): string {
  return raw.slice(0, 'stw_live_'.length + 4);
}

/**
 * The mode `raw` says it has if it has the shape and checksum of a Stowage key, else undefined; says
 * nothing about whether the key exists.
 */
export function modeOfApiKey(raw: string): KeyMode | undefined {
  const match = KEY_PATTERN.exec(raw);
  return match !== null && checksum(`stw_${match[1]}_${match[2]}`) === match[3]
    ? (match[1] as KeyMode)
    : undefined;
}

/** Whether `raw` has the shape and checksum of a Stowage key; says nothing about whether it exists. */
export const isWellFormedApiKey = (raw: string): boolean => modeOfApiKey(raw) !== undefined;

export function hashApiKey(raw: string): Buffer {
  return createHash('sha256').update(raw).digest();
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** read < write < admin: a key holds its own scopes and every lower one. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  const rank = (s: Scope) => scopes.indexOf(s);
  return held.some((s) => rank(s) >= rank(needed));
}
