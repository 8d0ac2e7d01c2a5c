import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateApiKey, grants, hashApiKey, hashesEqual, isWellFormedApiKey } from './api-key.ts';

describe('API keys', () => {
  it('have the documented shape, a prefix and a SHA-256 hash', () => {
    const key = generateApiKey('live');
    assert.match(key.raw, /^stw_live_[0-9A-Za-z]{38}$/);
    assert.equal(key.prefix, key.raw.slice(0, 13));
    assert.ok(hashesEqual(key.hash, hashApiKey(key.raw)));
    assert.match(generateApiKey('test').raw, /^stw_test_/);
  });

  it('are unique', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey('live').raw));
    assert.equal(keys.size, 1000);
  });

  it('are recognised by their checksum', () => {
    const { raw } = generateApiKey('live');
    assert.ok(isWellFormedApiKey(raw));
    const last = raw.at(-1) === 'a' ? 'b' : 'a';
    assert.equal(isWellFormedApiKey(raw.slice(0, -1) + last), false, 'a changed checksum');
    const mid = raw[20] === 'a' ? 'b' : 'a';
    assert.equal(isWellFormedApiKey(raw.slice(0, 20) + mid + raw.slice(21)), false, 'a changed body');
    for (const bad of ['', 'stw_live_', `stw_prod_${raw.slice(9)}`, `${raw}x`, raw.replace('stw_', 'sk_')]) {
      assert.equal(isWellFormedApiKey(bad), false, bad);
    }
  });

  it('compares hashes of any length safely', () => {
    assert.equal(hashesEqual(Buffer.from('ab'), Buffer.from('abc')), false);
    assert.equal(hashesEqual(hashApiKey('a'), hashApiKey('b')), false);
  });

  it('orders scopes read < write < admin', () => {
    assert.ok(grants(['admin'], 'read'));
    assert.ok(grants(['write'], 'read'));
    assert.ok(grants(['read'], 'read'));
    assert.equal(grants(['read'], 'write'), false);
    assert.equal(grants(['write'], 'admin'), false);
    assert.equal(grants([], 'read'), false);
  });
});
