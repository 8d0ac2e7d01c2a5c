import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@stowage/core';
import { checkMintable, type KeyRequest } from './mint-tenant-key.ts';

const minter = { tenantId: 't', scopes: ['admin' as const], mode: 'live' as const, validUntil: null };
const request: KeyRequest = { name: 'ci', scopes: ['read', 'write'], mode: 'live' };
const refusal = (m: Parameters<typeof checkMintable>[0], r: KeyRequest) => {
  try {
    checkMintable(m, r);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof AppError);
    return { code: err.code, message: err.message, suggestion: err.suggestion };
  }
};

describe('checkMintable', () => {
  it('lets an admin key grant every scope, and no key a scope it lacks', () => {
    assert.equal(refusal(minter, { ...request, scopes: ['read', 'write', 'admin'] }), undefined);
    const writer = { ...minter, scopes: ['write' as const] };
    assert.equal(refusal(writer, request), undefined, 'write includes read');
    assert.deepEqual(refusal(writer, { ...request, scopes: ['read', 'admin'] }), {
      code: 'FORBIDDEN',
      message: 'This API key cannot grant scopes it lacks: admin',
      suggestion: undefined,
    });
  });

  it('lets a test key mint test keys only', () => {
    const tester = { ...minter, mode: 'test' as const };
    assert.equal(refusal(tester, { ...request, mode: 'test' }), undefined);
    assert.equal(refusal(tester, request)?.message, 'A test key cannot mint live keys');
    assert.equal(refusal(minter, { ...request, mode: 'test' }), undefined, 'a live key mints both');
  });

  it('lets a key that ends mint only keys that end no later', () => {
    const end = new Date('2030-01-01T00:00:00Z');
    const ending = { ...minter, validUntil: end };
    assert.equal(refusal(ending, { ...request, expiresAt: end }), undefined);
    const forever = refusal(ending, request);
    assert.equal(forever?.code, 'FORBIDDEN');
    assert.equal(forever?.suggestion, 'Pass an expiresAt no later than 2030-01-01T00:00:00.000Z.');
    assert.ok(refusal(ending, { ...request, expiresAt: new Date(end.getTime() + 1) }));
  });
});
