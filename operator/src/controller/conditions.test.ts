import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changedConditions, conditionsFor } from './conditions.ts';

const at = new Date('2026-01-01T00:00:00Z');
const later = new Date('2026-01-02T00:00:00Z');
const ok = { keys: [], changes: [] };
const conflict = {
  keys: [],
  changes: [],
  failure: { step: 'DatabaseSynced' as const, reason: 'TenantIdConflict', message: 'taken', retry: false },
};
const bucketDown = {
  keys: [],
  changes: [],
  failure: { step: 'BucketReady' as const, reason: 'BucketError', message: 'S3 is down', retry: true },
};
const summary = (conditions: { type: string; status: string; reason: string }[]) =>
  conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);

describe('conditionsFor', () => {
  it('is all True when every step succeeded', () => {
    assert.deepEqual(summary(conditionsFor(ok, 3, [], at)), [
      'Ready=True/Provisioned',
      'DatabaseSynced=True/TenantSynced',
      'BucketReady=True/BucketExists',
      'KeysReady=True/KeysDelivered',
    ]);
    assert.ok(conditionsFor(ok, 3, [], at).every((c) => c.observedGeneration === 3));
  });

  it('marks the failed step False with its reason, earlier steps True and later ones Unknown', () => {
    assert.deepEqual(summary(conditionsFor(bucketDown, 1, [], at)), [
      'Ready=False/BucketError',
      'DatabaseSynced=True/TenantSynced',
      'BucketReady=False/BucketError',
      'KeysReady=Unknown/Blocked',
    ]);
    const ready = conditionsFor(conflict, 1, [], at)[0]!;
    assert.equal(ready.reason, 'TenantIdConflict');
    assert.equal(ready.message, 'taken');
  });

  it('keeps the transition time of a condition whose status did not change', () => {
    const first = conditionsFor(ok, 1, [], at);
    const again = conditionsFor(ok, 2, first, later);
    assert.ok(again.every((c) => c.lastTransitionTime === '2026-01-01T00:00:00Z'));
    const broken = conditionsFor(bucketDown, 2, first, later);
    assert.equal(broken.find((c) => c.type === 'DatabaseSynced')!.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(broken.find((c) => c.type === 'BucketReady')!.lastTransitionTime, '2026-01-02T00:00:00Z');
  });
});

describe('changedConditions', () => {
  it('lists the conditions whose status or reason changed', () => {
    const first = conditionsFor(ok, 1, [], at);
    assert.deepEqual(changedConditions(first, conditionsFor(ok, 2, first, later)), []);
    assert.deepEqual(summary(changedConditions(first, conditionsFor(bucketDown, 2, first, later))), [
      'Ready=False/BucketError',
      'BucketReady=False/BucketError',
      'KeysReady=Unknown/Blocked',
    ]);
    assert.equal(changedConditions(undefined, first).length, 4);
  });
});
