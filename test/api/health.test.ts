import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startApi } from '@stowage/api';
import { stackBackends, type ApiStack } from '../support/api-stack.ts';
import { call } from '../support/http.ts';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const backend of stackBackends) {
  describe(`health and the API document on ${backend.name}`, () => {
    let stack: ApiStack;
    before(async () => {
      stack = await backend.create();
    });
    after(() => stack.close());

    it('is live and ready while the database and the store answer', async () => {
      assert.deepEqual((await call(stack.url, '/healthz')).body, { status: 'ok' });
      const ready = await call(stack.url, '/readyz');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: 'ok', failing: [], degraded: [] });
    });

    it('is live but answers 503 naming the database when it does not answer', async () => {
      const pool = new pg.Pool({
        host: '127.0.0.1',
        port: await closedPort(),
        connectionTimeoutMillis: 2000,
      });
      const api = await startApi({ ...stack.deps, pool });
      try {
        assert.equal((await call(api.url, '/healthz')).status, 200);
        const ready = await call(api.url, '/readyz');
        assert.equal(ready.status, 503);
        assert.deepEqual(ready.body, { status: 'unavailable', failing: ['database'], degraded: [] });
      } finally {
        await api.close();
        await pool.end();
      }
    });

    it('describes the file, usage and health routes in /openapi.json', async () => {
      const { body: doc } = await call(stack.url, '/openapi.json');
      const statuses = (path: string, method: string) =>
        Object.keys(doc.paths[path]?.[method]?.responses ?? {});
      assert.deepEqual(statuses('/files/{bucket}', 'get'), ['200', '404', 'default']);
      assert.deepEqual(statuses('/files/{bucket}/{key}', 'get'), ['200', '404', 'default']);
      assert.deepEqual(statuses('/files/delete', 'post'), ['200', 'default']);
      assert.deepEqual(statuses('/files/delete-bucket', 'post'), ['200', '404', 'default']);
      assert.deepEqual(statuses('/files/signed-url', 'post'), ['200', '404', '503', 'default']);
      assert.deepEqual(statuses('/usage', 'get'), ['200', 'default']);
      assert.deepEqual(statuses('/healthz', 'get'), ['200', 'default']);
      assert.deepEqual(statuses('/readyz', 'get'), ['200', '503', 'default']);
      assert.deepEqual(doc.paths['/readyz'].get.security, [], 'public');
      assert.equal(doc.paths['/files/delete-bucket'].post['x-stowage-scope'], 'admin');
      const signing = doc.paths['/files/signed-url'].post.requestBody.content['application/json'].schema;
      assert.deepEqual(signing.required, ['bucket', 'key']);
      assert.deepEqual(
        [signing.properties.expiresIn.minimum, signing.properties.expiresIn.maximum],
        [1, 7 * 24 * 3600],
      );
    });
  });
}
