import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { realBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';

const APP = 'https://app.example.com';
const PARTNER = 'https://partner.example.com';
const EVIL = 'https://evil.example.com';

describe('allowed origins and CORS', () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  let partnerKey: string;
  before(async () => {
    // A database of its own, so no other tenant's "any origin" widens what preflights accept.
    stack = await realBackend.create();
    tenant = await stack.createTenant({ allowedOrigins: [APP] });
    partnerKey = await tenant.mintKey(['read', 'write'], { allowedOrigins: [PARTNER] }); // the key's own list replaces the tenant's
  });
  after(() => stack.close());

  const preflight = (origin: string, path = '/upload/docs') =>
    fetch(`${stack.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key',
      },
    });

  it('answers preflights for allowed origins only', async () => {
    for (const origin of [APP, PARTNER]) {
      const res = await preflight(origin);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-api-key/);
      assert.match(res.headers.get('vary') ?? '', /Origin/);
    }
    const denied = await preflight(EVIL);
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    assert.equal(((await denied.json()) as { code: string }).code, 'FORBIDDEN');
  });

  it("allows requests from the tenant's origins and refuses the rest with 403", async () => {
    const allowed = await call(stack.url, '/usage', { key: tenant.key, headers: { origin: APP } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get('access-control-allow-origin'), APP);
    const exposed = allowed.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
    for (const header of [
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'x-ratelimit-interval',
    ])
      assert.ok(exposed.includes(header), `${header} exposed`);

    const denied = await call(stack.url, '/usage', { key: tenant.key, headers: { origin: EVIL } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'FORBIDDEN');
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });

  it("lets a key's own origins override the tenant's", async () => {
    assert.equal(
      (await call(stack.url, '/usage', { key: partnerKey, headers: { origin: PARTNER } })).status,
      200,
    );
    const res = await call(stack.url, '/usage', { key: partnerKey, headers: { origin: APP } });
    assert.equal(res.status, 403);
  });

  it('serves public files to every origin and protected ones only where the key is allowed', async () => {
    const pub = await upload(stack.url, 'docs', 'public text', { key: tenant.key });
    const served = await fetch(`${stack.url}/${tenant.id}/docs/${pub.body.file.key}`, {
      headers: { origin: EVIL },
    });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('access-control-allow-origin'), '*');

    const prot = await upload(stack.url, 'docs', 'private text', {
      key: tenant.key,
      fields: { allowPublicAccess: 'false' },
    });
    const path = `${stack.url}/${tenant.id}/docs/${prot.body.file.key}`;
    const ok = await fetch(path, { headers: { origin: APP, 'x-api-key': tenant.key } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    const hidden = await fetch(path, { headers: { origin: EVIL, 'x-api-key': tenant.key } });
    assert.equal(hidden.status, 404);
  });
});
