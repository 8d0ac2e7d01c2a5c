import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '@stowage/core';
import { byteRange } from './byte-range.ts';

const etag = '"v1"';
const range = (header: string | undefined, size = 100, ifRange?: string) =>
  byteRange({ range: header, ifRange }, size, etag);

describe('byteRange', () => {
  it('reads one range in its three forms, cut at the end of the object', () => {
    assert.deepEqual(range('bytes=10-19'), { start: 10, end: 19 });
    assert.deepEqual(range('bytes=90-'), { start: 90, end: 99 });
    assert.deepEqual(range('bytes=-5'), { start: 95, end: 99 });
    assert.deepEqual(range('bytes=95-500'), { start: 95, end: 99 });
    assert.deepEqual(range('bytes=0-9,10-19'), { start: 0, end: 19 }, 'adjacent ranges as one');
  });

  it('sends the whole object for no range, a malformed one, other units or several apart', () => {
    for (const header of [undefined, 'bytes', 'bytes=x-y', 'items=0-1', 'bytes=0-1,50-60']) {
      assert.equal(range(header), undefined, String(header));
    }
  });

  it('sends the whole object when If-Range names another version', () => {
    assert.equal(range('bytes=0-9', 100, '"v0"'), undefined);
    assert.equal(range('bytes=0-9', 100, 'Tue, 01 Dec 2026 00:00:00 GMT'), undefined);
    assert.deepEqual(range('bytes=0-9', 100, etag), { start: 0, end: 9 });
  });

  it('answers 416 with the size when no range lies within the object', () => {
    for (const header of ['bytes=100-', 'bytes=200-300', 'bytes=-0']) {
      assert.throws(
        () => range(header),
        (err) =>
          err instanceof AppError && err.status === 416 && err.headers['content-range'] === 'bytes */100',
        header,
      );
    }
  });
});
