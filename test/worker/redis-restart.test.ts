import { after, before, describe, it } from 'node:test';
import { dispatchOutbox } from '../../services/image-worker/src/queue/outbox.ts';
import { realBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { startCliServer, type CliServer } from '../support/cli.ts';
import { call, PNG_1X1, upload } from '../support/http.ts';
import { eventually } from '../support/poll.ts';
import { OwnRedis } from '../support/redis-server.ts';

describe('an image worker whose Redis restarts empty', () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  let redis: OwnRedis;
  let worker: CliServer;

  before(async () => {
    stack = await realBackend.create();
    tenant = await stack.createTenant();
    redis = await OwnRedis.start();
  });
  after(async () => {
    await worker?.stop();
    await redis?.stop();
    await stack?.close();
  });

  it('offers the jobs it had dispatched again, and the variants are made', async () => {
    const { body } = await upload(stack.url, 'img', PNG_1X1, { key: tenant.key, filename: 'a.png' });
    // Handed to the queue and marked dispatched, then lost with Redis's data (it keeps none on disk).
    await dispatchOutbox(stack.db.pool, async () => {});
    worker = await startCliServer('worker', { DATABASE_URL: stack.db.url, REDIS_URL: redis.url });
    await redis.stop();
    await redis.resume();
    await eventually(async () => {
      const file = await call(stack.url, `/files/img/${body.file.key}`, { key: tenant.key });
      return file.body.file.variantStatus === 'ready' ? true : undefined;
    }, 'the variants to be made after Redis came back');
  });
});
