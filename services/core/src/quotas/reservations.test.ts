import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossedThresholds } from './reservations.ts';

describe('crossedThresholds', () => {
  it('reports each of 80, 90 and 100 % once, crossing upward', () => {
    assert.deepEqual(crossedThresholds(0, 799, 1000), []);
    assert.deepEqual(crossedThresholds(799, 800, 1000), [80]);
    assert.deepEqual(crossedThresholds(800, 899, 1000), [], 'already past 80');
    assert.deepEqual(crossedThresholds(500, 1000, 1000), [80, 90, 100], 'one jump, every crossing');
    assert.deepEqual(crossedThresholds(1000, 1200, 1000), []);
    assert.deepEqual(crossedThresholds(0, 10, 0), [], 'no quota, no percentage');
  });
});
