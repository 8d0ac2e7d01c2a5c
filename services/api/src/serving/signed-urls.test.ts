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

  it('accept only the form they were minted in', () => {
    const sig = query.signature!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 32 bytes take 43 characters; the last one's lowest 2 bits decode to nothing.
    const sameBytes = sig.slice(0, -1) + alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1];
    assert.deepEqual(Buffer.from(sameBytes, 'base64url'), Buffer.from(sig, 'base64url'));
    const altered = [
      { ...query, signature: `${sig}junk` },
      { ...query, signature: `${sig}!~*` },
      { ...query, signature: `${sig}=` },
      { ...query, signature: `${sig.slice(0, 10)}.${sig.slice(10)}` },
      { ...query, signature: ` ${sig}` },
      { ...query, signature: sameBytes },
      { ...query, signature: Buffer.from(sig, 'base64url').toString('base64') },
      { ...query, expires: `0${expires}` },
      { ...query, expires: `+${expires}` },
      { ...query, expires: `${expires}.0` },
      { ...query, signature: [sig, sig] },
      { ...query, expires: [String(expires), String(expires)] },
    ];
    const accepted = altered.filter((q) => verifySignedQuery(secret, target, q));
    assert.deepEqual(accepted, []);
  });
});
