import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corsHeaders } from './cors-headers.ts';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example.com';

describe('corsHeaders', () => {
  it('answers preflights for any origin some tenant or key allows', () => {
    const known = { anyOrigin: false, origins: [APP] };
    const headers = corsHeaders({ by: 'preflight', known }, APP)!;
    assert.equal(headers['access-control-allow-origin'], APP);
    assert.match(headers['access-control-allow-methods']!, /POST/);
    assert.match(headers['access-control-allow-headers']!, /x-api-key/);
    assert.equal(headers.vary, 'Origin');
    assert.equal(corsHeaders({ by: 'preflight', known }, EVIL), undefined);
    assert.ok(corsHeaders({ by: 'preflight', known: { anyOrigin: true, origins: [] } }, EVIL));
  });

  it("lets pages at a key's origins read its answers, and refuses other pages", () => {
    const caller = { allowedOrigins: [APP] };
    const headers = corsHeaders({ by: 'key', caller }, APP)!;
    assert.equal(headers['access-control-allow-origin'], APP);
    assert.match(headers['access-control-expose-headers']!, /x-ratelimit-remaining/);
    assert.equal(headers['access-control-allow-methods'], undefined, 'only preflights list methods');
    assert.equal(corsHeaders({ by: 'key', caller }, EVIL), undefined);
    assert.deepEqual(corsHeaders({ by: 'key', caller }, undefined), {}, 'not from a page');
    assert.equal(
      corsHeaders({ by: 'key', caller: { allowedOrigins: [] } }, EVIL)?.['access-control-allow-origin'],
      EVIL,
      'an empty list allows any origin',
    );
  });

  it('lets every page read public files, and no page read a signed URL', () => {
    for (const origin of [APP, undefined]) {
      assert.equal(corsHeaders({ by: 'public' }, origin)?.['access-control-allow-origin'], '*');
      assert.deepEqual(corsHeaders({ by: 'signature' }, origin), {});
    }
  });
});
