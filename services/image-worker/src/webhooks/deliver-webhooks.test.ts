import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '@stowage/core';
import { retryDelayMs } from './deliver-webhooks.ts';

describe('retryDelayMs', () => {
  it('doubles from WEBHOOK_RETRY_BASE_MS', () => {
    const settings = loadConfig({ WEBHOOK_RETRY_BASE_MS: '1000' }).webhooks;
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => retryDelayMs(settings, attempt)),
      [1000, 2000, 4000, 8000],
    );
  });

  it('with the defaults, spreads the attempts over about a day, as the README says', () => {
    const settings = loadConfig({}).webhooks;
    let waited = 0;
    for (let attempt = 1; attempt < settings.maxAttempts; attempt++)
      waited += retryDelayMs(settings, attempt);
    const hours = waited / 3_600_000;
    assert.ok(hours > 20 && hours < 28, `${hours.toFixed(1)} h from the first attempt to the last`);
  });
});
