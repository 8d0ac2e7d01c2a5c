import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, type FileRecord, type KeyMode, type Scope } from '@stowage/core';
import { admit, type Credentials } from './admit.ts';
import { signQuery } from './signed-urls.ts';

const secret = 's'.repeat(32);
const id = '0f070692-8186-4b8d-86b9-e55d3e99f0b8';
const file: FileRecord = {
  id,
  tenantId: 'acme',
  bucket: 'docs',
  key: `${id}.pdf`,
  originalName: 'report.pdf',
  mimetype: 'application/pdf',
  size: 100,
  etag: `"${id}"`,
  allowPublicAccess: false,
  variantStatus: 'none',
  variants: {},
  tags: [],
  metadata: {},
  createdAt: new Date(),
  updatedAt: new Date(),
  mode: 'live',
  expiresAt: null,
};
const APP = 'https://app.example.com';
const key = (scopes: Scope[], tenantId = 'acme', allowedOrigins: string[] = [], mode: KeyMode = 'live') => ({
  tenantId,
  mode,
  scopes,
  allowedOrigins,
});
const signed = Object.fromEntries(
  new URLSearchParams(
    signQuery(
      secret,
      { tenantId: file.tenantId, bucket: file.bucket, fileId: id },
      Math.floor(Date.now() / 1000) + 60,
    ),
  ),
);

function credentials(options: Partial<Credentials> & { caller?: ReturnType<typeof key> } = {}) {
  let lookups = 0;
  const presented: Credentials = {
    query: {},
    origin: undefined,
    identify: async () => {
      lookups++;
      return options.caller;
    },
    ...options,
  };
  return { presented, lookups: () => lookups };
}

const hidden = (err: unknown) => err instanceof AppError && err.code === 'FILE_NOT_FOUND';

describe('admit', () => {
  it('lets anyone see a public file, readable by every page, without looking up a key', async () => {
    const { presented, lookups } = credentials({ origin: APP });
    const cors = await admit({ ...file, allowPublicAccess: true }, presented, secret);
    assert.equal(cors['access-control-allow-origin'], '*');
    assert.equal(lookups(), 0);
  });

  it('lets a valid signed URL see a protected file, without CORS and without looking up a key', async () => {
    const { presented, lookups } = credentials({ query: signed, origin: APP });
    assert.deepEqual(await admit(file, presented, secret), {});
    assert.equal(lookups(), 0);
    await assert.rejects(admit(file, presented, undefined), hidden, 'no secret, no signed URLs');
    await assert.rejects(admit({ ...file, id: id.replace('0', '1') }, presented, secret), hidden);
  });

  it('lets a read key of the tenant see a protected file from the origins it allows', async () => {
    const reader = key(['read'], 'acme', [APP]);
    assert.deepEqual(await admit(file, credentials({ caller: reader }).presented, secret), {});
    const cors = await admit(file, credentials({ caller: reader, origin: APP }).presented, secret);
    assert.equal(cors['access-control-allow-origin'], APP);
    assert.equal(cors.vary, 'Origin');
    assert.deepEqual(await admit(file, credentials({ caller: key(['admin']) }).presented, secret), {});
  });

  it('hides a protected file from everyone else as if it did not exist', async () => {
    const others = [
      credentials(),
      credentials({ caller: key(['read'], 'other') }),
      credentials({ caller: key([]) }),
      credentials({ caller: key(['read'], 'acme', [APP]), origin: 'https://evil.example.com' }),
      credentials({ query: { ...signed, signature: 'AAAA' } }),
    ];
    for (const { presented } of others) await assert.rejects(admit(file, presented, secret), hidden);
  });

  it('lets a key see only protected files of its own mode', async () => {
    const testFile = { ...file, mode: 'test' as const };
    const tester = credentials({ caller: key(['read'], 'acme', [], 'test') }).presented;
    assert.deepEqual(await admit(testFile, tester, secret), {});
    await assert.rejects(admit(file, tester, secret), hidden, 'a test key, a live file');
    const liveReader = credentials({ caller: key(['read']) }).presented;
    await assert.rejects(admit(testFile, liveReader, secret), hidden, 'a live key, a test file');
    assert.deepEqual(await admit(testFile, credentials({ query: signed }).presented, secret), {});
  });
});
