import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and days', () => {
    assert.equal(parseDuration('45s'), 45);
    assert.equal(parseDuration('90m'), 5400);
    assert.equal(parseDuration('12h'), 43_200);
    assert.equal(parseDuration('30d'), 30 * 86_400);
    assert.equal(parseDuration('999999d'), 999_999 * 86_400);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', '30', 'd', '0d', '05d', '1.5h', '-1d', '1w', '30 d', '1h30m', '1000000d', '30D']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
});
