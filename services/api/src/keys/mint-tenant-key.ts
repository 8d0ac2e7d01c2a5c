import {
  forbidden,
  grants,
  invalidInput,
  mintUniquelyNamedKey,
  type KeyMode,
  type KeyPrincipal,
  type MintedKey,
  type Scope,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { ApiDeps } from '../deps.ts';

export interface KeyRequest {
  name: string;
  scopes: Scope[];
  mode: KeyMode;
  allowedOrigins?: string[] | undefined;
  expiresAt?: Date | undefined;
}

type Minter = Pick<KeyPrincipal, 'tenantId' | 'scopes' | 'mode' | 'validUntil'>;

/**
 * A key cannot mint a key that can do more than itself: no scope it lacks (read < write < admin, so an
 * admin key may grant any), no live key from a test key (whose holder sees only the sandbox), and no key
 * that outlives it. Throws 403 FORBIDDEN saying which.
 */
export function checkMintable(minter: Minter, request: KeyRequest): void {
  const lacking = request.scopes.filter((scope) => !grants(minter.scopes, scope));
  if (lacking.length) {
    throw forbidden(`This API key cannot grant scopes it lacks: ${lacking.join(', ')}`);
  }
  if (minter.mode === 'test' && request.mode === 'live') {
    throw forbidden(
      'A test key cannot mint live keys',
      'Mint live keys with a live key that has the admin scope.',
    );
  }
  const end = minter.validUntil;
  if (end && !(request.expiresAt && request.expiresAt <= end)) {
    throw forbidden(
      `This API key stops working at ${end.toISOString()} and cannot mint a key that outlives it`,
      `Pass an expiresAt no later than ${end.toISOString()}.`,
    );
  }
}

/**
 * Mints a key for the minter's tenant; the raw key is in the result and nowhere else (its audit entry
 * has its id, name, prefix, scopes and mode). The name must not be taken by an active key of the tenant,
 * declared or minted (400 with `fields` otherwise).
 */
export async function mintTenantKey(
  deps: Pick<ApiDeps, 'pool'>,
  minter: Minter,
  request: KeyRequest,
  audit: AuditContext,
): Promise<MintedKey> {
  checkMintable(minter, request);
  const key = await mintUniquelyNamedKey(
    deps.pool,
    { tenantId: minter.tenantId, ...request },
    (client, minted) =>
      audit.record(client, {
        details: {
          id: minted.id,
          name: minted.name,
          prefix: minted.prefix,
          scopes: minted.scopes,
          mode: minted.mode,
        },
      }),
  );
  if (!key) {
    throw invalidInput([
      { path: 'body.name', message: `the tenant already has an active key named ${request.name}` },
    ]);
  }
  return key;
}
