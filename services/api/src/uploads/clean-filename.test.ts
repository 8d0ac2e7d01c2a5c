import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanFilename } from './clean-filename.ts';

describe('cleanFilename', () => {
  it('keeps the last path segment without control characters', () => {
    assert.equal(cleanFilename('../../etc/report.pdf'), 'report.pdf');
    assert.equal(cleanFilename('C:\\Users\\me\\photo.jpg'), 'photo.jpg');
    assert.equal(cleanFilename('a\u0000b\nc.txt'), 'abc.txt');
    assert.equal(cleanFilename('  '), 'file');
    assert.equal(cleanFilename(undefined), 'file');
  });

  it('cuts a long name at 255 characters, never inside one', () => {
    assert.equal(cleanFilename('x'.repeat(300)), 'x'.repeat(255));
    // Each emoji is two UTF-16 units: cutting at 255 units would leave half of one.
    assert.equal(cleanFilename('😀'.repeat(300)), '😀'.repeat(255));
    assert.equal(cleanFilename('日本語.pdf'), '日本語.pdf');
  });
});
