import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stowage, type RetryOptions } from '@stowage/sdk';
import { embeddedBackend, type ApiStack } from '../support/api-stack.ts';
import { recordingFetch, rejectsWith } from './support.ts';

// Rate limits do not depend on the store: the embedded backend stands for both.
describe('@stowage/sdk under a rate limit', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await embeddedBackend.create();
  });
  after(() => stack.close());

  it('waits out a 429 for its Retry-After, unless that is longer than it may wait', async () => {
    const tenant = await stack.createTenant({ rateLimits: { usage: 2 } });
    const { fetch, sent } = recordingFetch();
    const sdk = (retry: RetryOptions = {}) =>
      new Stowage({ baseUrl: stack.url, apiKey: tenant.key, fetch, retry });
    await sdk().getUsage();
    await sdk().getUsage();

    const limited = await rejectsWith(sdk({ maxRetryAfterMs: 1000 }).getUsage(), 'RATE_LIMIT_EXCEEDED', 429);
    assert.ok(limited.retryAfterMs! > 1000, `Retry-After ${limited.retryAfterMs} ms`);
    assert.match(limited.requestId ?? '', /\S/);

    // The window is a minute long: this waits out the rest of it.
    const usage = await sdk().getUsage();
    assert.equal(usage.success, true);
    assert.deepEqual(
      sent.map((s) => s.status),
      [200, 200, 429, 429, 200],
    );
  });
});
