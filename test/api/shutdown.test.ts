import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { databaseBackends, type TestDatabase } from '../support/databases.ts';
import { eventually } from '../support/poll.ts';

/** GET on `agent`; resolves to the status and the Connection header of the answer. */
function check(url: string, agent: Agent): Promise<{ status?: number; connection?: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection }));
    }).on('error', reject);
  });
}

// A rolling update sends SIGTERM while kube-proxy may still route new connections to the pod and
// clients hold keep-alive connections to it: both must still be answered, and told to go elsewhere.
describe('stowage api on SIGTERM with SHUTDOWN_DELAY_SECONDS', () => {
  let db: TestDatabase;
  let api: CliServer;

  before(async () => {
    db = await databaseBackends[0].create();
    api = await startCliServer('api', {
      DATABASE_URL: db.url,
      LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_SECONDS: '5',
    });
  });
  after(async () => {
    await api.stop();
    await db.drop();
  });

  it('answers on kept-alive and new connections, each answer closing its connection, then exits', async () => {
    const pooled = new Agent({ keepAlive: true, maxSockets: 1 });
    const fresh = new Agent({ keepAlive: false });
    assert.deepEqual(await check(`${api.url}/healthz`, pooled), { status: 200, connection: 'keep-alive' });

    const exited = once(api.child, 'exit');
    api.child.kill('SIGTERM');
    await eventually(
      async () => (api.output().includes('stopping: answering') ? true : undefined),
      'the stop',
    );
    assert.deepEqual(await check(`${api.url}/healthz`, pooled), { status: 200, connection: 'close' });
    assert.equal((await check(`${api.url}/healthz`, fresh)).status, 200);

    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    pooled.destroy();
  });
});
