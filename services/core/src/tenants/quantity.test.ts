import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseByteQuantity } from './quantity.ts';

describe('parseByteQuantity', () => {
  it('reads binary and decimal suffixes', () => {
    assert.equal(parseByteQuantity('10Gi'), 10 * 2 ** 30);
    assert.equal(parseByteQuantity('512Mi'), 512 * 2 ** 20);
    assert.equal(parseByteQuantity('1Ki'), 1024);
    assert.equal(parseByteQuantity('500M'), 500_000_000);
    assert.equal(parseByteQuantity('2k'), 2000);
    assert.equal(parseByteQuantity('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(parseByteQuantity('123'), 123);
    assert.equal(parseByteQuantity(4096), 4096);
    assert.equal(parseByteQuantity('0'), 0);
  });

  it('rejects what is not a byte quantity', () => {
    for (const bad of ['', 'Gi', '-1Gi', '10 GB', '10gi', '1e3', '0x10', '10Ei', '99999999Pi']) {
      assert.equal(parseByteQuantity(bad), undefined, bad);
    }
    assert.equal(parseByteQuantity(-1), undefined);
    assert.equal(parseByteQuantity(1.5), undefined);
  });
});
