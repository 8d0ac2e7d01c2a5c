import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { call, upload } from '../support/http.ts';

/** `curl -u "<user>:<password>"` as a header. */
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

for (const backend of stackBackends) {
  describe(`API key authentication on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let protectedPath: string;
    before(async () => {
      stack = await backend.create();
      tenant = await stack.createTenant();
      const { body } = await upload(stack.url, 'private', 'secret stuff', {
        key: tenant.key,
        fields: { allowPublicAccess: 'false' },
      });
      protectedPath = `/${tenant.id}/private/${body.file.key}`;
    });
    after(() => stack.close());

    it('takes the key as the user name of HTTP Basic with an empty password, as curl -u "$KEY:" sends it', async () => {
      const authorization = basic(`${tenant.key}:`);
      const usage = await call(stack.url, '/usage', { headers: { authorization } });
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      assert.equal(usage.body.success, true);

      const reader = await tenant.mintKey(['read']);
      const served = await fetch(`${stack.url}${protectedPath}`, {
        headers: { authorization: basic(`${reader}:`) },
      });
      assert.equal(served.status, 200);
      assert.equal(await served.text(), 'secret stuff');
    });

    it('answers malformed Basic credentials like any bad key', async () => {
      const refused = await call(stack.url, '/usage', { headers: { 'x-api-key': 'garbage' } });
      const { requestId: _, ...expected } = refused.body;
      for (const authorization of [
        'Basic',
        'Basic !!!not-base64!!!',
        basic(tenant.key), // no colon: not user:password
        basic(`${tenant.key}:a password`),
        basic(`:${tenant.key}`),
        basic(`${tenant.key}:${tenant.key}`),
        basic('garbage:'),
        `Basic ${Buffer.from(`${tenant.key}:`).toString('base64')} trailing`,
      ]) {
        const res = await call(stack.url, '/usage', { headers: { authorization } });
        assert.equal(res.status, 401, authorization);
        const { requestId, ...rest } = res.body;
        assert.equal(requestId, res.headers.get('x-request-id'));
        assert.deepEqual(rest, expected, authorization);
        const served = await call(stack.url, protectedPath, { headers: { authorization } });
        assert.equal(served.status, 404, authorization);
        assert.equal(served.body.code, 'FILE_NOT_FOUND');
      }
    });
  });
}
