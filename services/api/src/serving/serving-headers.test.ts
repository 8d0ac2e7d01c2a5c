import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { servingHeaders } from './serving-headers.ts';

const file = {
  filename: '0f070692-8186-4b8d-86b9-e55d3e99f0b8.txt',
  mimetype: 'text/plain',
  etag: '"v1"',
  lastModified: new Date('2026-01-02T03:04:05Z'),
  isPublic: true,
};

describe('servingHeaders', () => {
  it('caches public files forever and protected ones only privately', () => {
    assert.equal(servingHeaders(file)['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(servingHeaders({ ...file, isPublic: false })['cache-control'], 'private, no-cache');
  });

  it('serves text as UTF-8, never sniffed, in a sandbox', () => {
    const headers = servingHeaders(file);
    assert.equal(headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.match(headers['content-security-policy']!, /sandbox/);
    assert.equal(headers['content-disposition'], undefined);
    assert.equal(headers['last-modified'], 'Fri, 02 Jan 2026 03:04:05 GMT');
    assert.equal(servingHeaders({ ...file, mimetype: 'image/png' })['content-type'], 'image/png');
  });

  it('makes active types attachments', () => {
    for (const mimetype of ['image/svg+xml', 'text/html', 'application/xml', 'text/javascript']) {
      assert.equal(
        servingHeaders({ ...file, mimetype })['content-disposition'],
        `attachment; filename="${file.filename}"`,
        mimetype,
      );
    }
  });
});
