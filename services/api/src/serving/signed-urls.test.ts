import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { signQuery, verifySignedQuery } from './signed-urls.ts';

const secret = 'x'.repeat(32);
const target = { tenantId: 'acme', bucket: 'docs', fileId: '0f070692-8186-4b8d-86b9-e55d3e99f0b8' };
const parse = (query: string) => Object.fromEntries(new URLSearchParams(query));

describe('signed URLs', () => {
  const expires = Math.floor(Date.now() / 1000) + 60;
  const query = parse(signQuery(secret, target, expires));

  it('verify until they expire', () => {
    assert.equal(verifySignedQuery(secret, target, query), true);
    assert.equal(verifySignedQuery(secret, target, query, (expires + 1) * 1000), false);
  });

  it('fail when anything is changed', () => {
    assert.equal(verifySignedQuery(secret, { ...target, tenantId: 'other' }, query), false);
    assert.equal(verifySignedQuery(secret, { ...target, bucket: 'other' }, query), false);
    assert.equal(
      verifySignedQuery(secret, { ...target, fileId: target.fileId.replace('0', '1') }, query),
      false,
    );
    assert.equal(verifySignedQuery('y'.repeat(32), target, query), false);
    assert.equal(verifySignedQuery(secret, target, { ...query, expires: String(expires + 3600) }), false);
    const sig = query.signature!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    assert.equal(verifySignedQuery(secret, target, { ...query, signature: flipped }), false);
  });

  it('fail when malformed or missing', () => {
    for (const bad of [
      {},
      { expires: String(expires) },
      { signature: query.signature },
      { expires: 'soon', signature: query.signature },
      { expires: [String(expires)], signature: query.signature },
    ]) {
      assert.equal(verifySignedQuery(secret, target, bad), false);
    }
  });
});
