import type { Request } from 'express';
import type pg from 'pg';
import {
  findKey,
  getTenant,
  hashApiKey,
  isWellFormedApiKey,
  type KeyPrincipal,
  type Tenant,
} from '@stowage/core';
import type { ApiDeps } from '../deps.ts';
import { KeyUseRecorder } from './key-use.ts';
import { TtlCache } from './ttl-cache.ts';

/** The caller behind a request's API key, with its tenant. */
export interface Caller extends KeyPrincipal {
  tenant: Tenant;
}

/** Whether the caller's key may be used from `origin` (an empty list allows any). */
export const originAllowed = (caller: Pick<Caller, 'allowedOrigins'>, origin: string): boolean =>
  caller.allowedOrigins.length === 0 || caller.allowedOrigins.includes(origin);

/** The largest file the caller may store: its tenant's limit, within the installation's. */
export const maxFileBytes = (caller: Caller, installationLimit: number): number =>
  Math.min(caller.tenant.maxFileSize, installationLimit);

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const BASIC = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i;
/** HTTP Basic credentials `<key>:`: the key as the user name, an empty password (`curl -u "$KEY:"`). */
const KEY_AS_USER = /^([^:]+):$/;

/** The key from `x-api-key`, `Authorization: Bearer` or `Authorization: Basic`, if any. */
export function presentedKey(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = req.headers.authorization ?? '';
  const bearer = BEARER.exec(authorization);
  if (bearer) return bearer[1];
  const basic = BASIC.exec(authorization);
  if (!basic) return undefined;
  return KEY_AS_USER.exec(Buffer.from(basic[1]!, 'base64').toString('utf8'))?.[1];
}

/**
 * Resolves API keys to callers. Lookups (hits and misses) are trusted for `ttlMs`, so a revoked key
 * stops working on every replica within that time without a database query per request; a key that
 * expires is never trusted past its end. Each caller's key is noted as used.
 */
export class Authenticator {
  private readonly pool: pg.Pool;
  private readonly keys: TtlCache<KeyPrincipal>;
  private readonly unknownKeys: TtlCache<true>;
  private readonly tenants: TtlCache<Tenant | undefined>;
  private readonly uses: KeyUseRecorder;

  constructor(deps: Pick<ApiDeps, 'pool' | 'logger'>, ttlMs: number) {
    this.pool = deps.pool;
    this.keys = new TtlCache(ttlMs);
    this.unknownKeys = new TtlCache(ttlMs);
    this.tenants = new TtlCache(ttlMs);
    this.uses = new KeyUseRecorder(deps);
  }

  /** The caller, or undefined when the request carries no usable key. */
  async identify(req: Request): Promise<Caller | undefined> {
    const raw = presentedKey(req);
    if (raw === undefined || !isWellFormedApiKey(raw)) return undefined;
    const principal = await this.principal(raw);
    if (!principal) return undefined;
    const tenant = await this.tenant(principal.tenantId);
    if (!tenant) return undefined;
    this.uses.record(principal.keyId);
    return { ...principal, tenant };
  }

  /**
   * Keys are cached by hash, so raw keys do not linger in memory. Unknown keys are remembered apart from
   * known ones: anyone can make well-formed keys, and a flood of them must not push real callers out.
   */
  private async principal(raw: string): Promise<KeyPrincipal | undefined> {
    const id = hashApiKey(raw).toString('base64');
    const hit = this.keys.peek(id);
    if (hit) return hit.value;
    if (this.unknownKeys.peek(id)) return undefined;
    const found = await findKey(this.pool, raw);
    if (found) this.keys.set(id, found, found.validUntil?.getTime());
    else this.unknownKeys.set(id, true);
    return found;
  }

  tenant(id: string): Promise<Tenant | undefined> {
    return this.tenants.getOrLoad(id, () => getTenant(this.pool, id));
  }
}
