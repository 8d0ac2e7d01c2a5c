import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notModified } from './conditional.ts';

const file = { etag: '"v1"', lastModified: new Date('2026-01-02T03:04:05.678Z') };
const uploaded = file.lastModified.toUTCString();

describe('notModified', () => {
  it('is true when If-None-Match names the version, weakly or among others, or is *', () => {
    for (const ifNoneMatch of ['"v1"', 'W/"v1"', '"v0", "v1"', '*']) {
      assert.equal(notModified({ ifNoneMatch }, file), true, ifNoneMatch);
    }
    assert.equal(notModified({ ifNoneMatch: '"v0"' }, file), false);
  });

  it('compares If-Modified-Since to the second, and only without If-None-Match', () => {
    assert.equal(notModified({ ifModifiedSince: uploaded }, file), true, 'sub-second part ignored');
    assert.equal(notModified({ ifModifiedSince: 'Sat, 01 Jan 2000 00:00:00 GMT' }, file), false);
    assert.equal(notModified({ ifModifiedSince: 'yesterday' }, file), false);
    assert.equal(notModified({ ifNoneMatch: '"v0"', ifModifiedSince: uploaded }, file), false);
  });

  it('is false for an unconditional request', () => {
    assert.equal(notModified({}, file), false);
  });
});
