import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sniffType } from './sniff.ts';

const sniff = async (text: string, name = 'file.bin') => (await sniffType(Buffer.from(text), name)).mimetype;

describe('sniffType', () => {
  it('recognises markup a browser would run, however it starts', async () => {
    assert.equal(await sniff('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml');
    assert.equal(
      await sniff('<?xml version="1.0"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC "x">\n<svg>'),
      'image/svg+xml',
    );
    assert.equal(await sniff('  <!DOCTYPE html><p>hi'), 'text/html');
    assert.equal(await sniff('<script>alert(1)</script>'), 'text/html');
    assert.equal(await sniff('<?xml version="1.0"?><feed/>'), 'application/xml');
    assert.equal(await sniff('just words'), 'text/plain');
    assert.equal(await sniff('%PDF-1.4\n'), 'application/pdf');
    assert.equal(
      await sniffType(Buffer.from([0, 1, 2, 255]), 'file.bin').then((t) => t.mimetype),
      'application/octet-stream',
    );
  });

  it('takes text named as a script, page or drawing as that type, and nothing else from the name', async () => {
    const script = 'alert(document.cookie);';
    for (const name of ['app.js', 'APP.JS', 'worker.mjs', 'server.cjs']) {
      assert.deepEqual(await sniffType(Buffer.from(script), name), {
        mimetype: 'text/javascript',
        ext: 'js',
      });
    }
    assert.equal(await sniff('<p onclick="x()">hi</p>', 'fragment.html'), 'text/html');
    assert.equal(await sniff('<p onclick="x()">hi</p>', 'fragment.htm'), 'text/html');
    assert.equal(
      await sniff('<p xmlns="http://www.w3.org/1999/xhtml"/>', 'a.xhtml'),
      'application/xhtml+xml',
    );
    assert.equal(await sniff('<s:svg xmlns:s="http://www.w3.org/2000/svg"/>', 'a.svg'), 'image/svg+xml');
    assert.equal(await sniff('<feed/>', 'a.xml'), 'application/xml');
    // Never looser: the bytes decide whenever they say anything, and other names change nothing.
    assert.equal(await sniff('%PDF-1.4\n', 'a.js'), 'application/pdf');
    assert.equal(await sniff('<svg xmlns="http://www.w3.org/2000/svg"/>', 'a.txt'), 'image/svg+xml');
    assert.equal(await sniff('<!DOCTYPE html><p>hi', 'a.js'), 'text/html');
    for (const name of ['app.js.txt', 'js', 'app.', 'notes.md', 'constructor', 'a.toString']) {
      assert.equal(await sniff(script, name), 'text/plain', name);
    }
    assert.equal(
      await sniffType(Buffer.from([0, 1, 2, 255]), 'a.js').then((t) => t.mimetype),
      'application/octet-stream',
    );
  });

  // A backtracking pattern would take minutes here, so the timeout makes it fail rather than hang.
  it('stays linear on input built to make a pattern backtrack', { timeout: 10_000 }, async () => {
    // With a nested-repetition regex this took seconds at 27 repetitions and doubled with each one.
    assert.equal(await sniff('<!---->'.repeat(580) + 'x'), 'text/plain');
    assert.equal(await sniff('<!--'.repeat(1000)), 'text/plain');
  });
});
