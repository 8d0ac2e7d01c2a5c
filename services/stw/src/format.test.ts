import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { formatBytes, parseCount, parseDuration, parseSince, parseTarget } from './format.ts';
import { UsageError } from './usage-error.ts';

describe('format', () => {
  it('writes bytes in binary units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
    assert.equal(formatBytes(3 * 1024 ** 5), '3072.0 TiB');
  });

  it('reads --since as a time or a duration ago', () => {
    const now = Date.parse('2030-01-02T00:00:00Z');
    assert.equal(parseSince('12h', now), '2030-01-01T12:00:00.000Z');
    assert.equal(parseSince('2029-12-31T10:00:00+02:00', now), '2029-12-31T08:00:00.000Z');
    for (const bad of ['yesterday', '12x', '2030-13-45T00:00:00Z']) {
      assert.throws(() => parseSince(bad, now), InvalidArgumentError, bad);
    }
  });

  it('reads durations as seconds', () => {
    assert.equal(parseDuration('600'), 600);
    assert.equal(parseDuration('10m'), 600);
    assert.equal(parseDuration('12h'), 43_200);
    assert.equal(parseDuration('7d'), 604_800);
    for (const bad of ['', 'soon', '1.5h', '-1', '10 m', '1w']) {
      assert.throws(() => parseDuration(bad), InvalidArgumentError, bad);
    }
  });

  it('reads counts from 1', () => {
    assert.equal(parseCount('8'), 8);
    for (const bad of ['0', '-2', '1.5', 'x', ''])
      assert.throws(() => parseCount(bad), InvalidArgumentError, bad);
  });

  it('splits bucket/key at the first slash', () => {
    assert.deepEqual(parseTarget('photos/1b9d.jpg'), { bucket: 'photos', key: '1b9d.jpg' });
    for (const bad of ['photos', '/key', 'photos/', ''])
      assert.throws(() => parseTarget(bad), UsageError, bad);
  });
});
