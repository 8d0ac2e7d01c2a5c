import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs, StowageError, type ErrorCode } from './errors.ts';
import { retryDelayMs, retryPolicy } from './retry.ts';

const policy = retryPolicy({ retries: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 });
const failure = (code: ErrorCode, status: number, retryAfter?: number) =>
  new StowageError({ code, status, message: code, retryAfterMs: retryAfter });
const delay = (error: StowageError, attempt = 0, replayable = true, random = () => 1) =>
  retryDelayMs(policy, { error, attempt, replayable }, random);

describe('retryDelayMs', () => {
  it("waits a 429's or a 503's Retry-After, up to maxRetryAfterMs", () => {
    assert.equal(delay(failure('RATE_LIMIT_EXCEEDED', 429, 2000)), 2000);
    assert.equal(delay(failure('SERVICE_UNAVAILABLE', 503, 5000)), 5000);
    assert.equal(delay(failure('RATE_LIMIT_EXCEEDED', 429, 5001)), undefined);
    assert.equal(delay(failure('SERVICE_UNAVAILABLE', 503)), 100, 'without Retry-After: a backoff step');
  });

  it('backs off exponentially with full jitter from network errors and gateway failures, up to maxDelayMs', () => {
    for (const error of [
      failure('NETWORK_ERROR', 0),
      failure('UNEXPECTED_RESPONSE', 502),
      failure('UNEXPECTED_RESPONSE', 504),
    ]) {
      assert.deepEqual(
        [0, 1, 2].map((attempt) => delay(error, attempt)),
        [100, 200, 400],
      );
      assert.equal(
        delay(error, 2, true, () => 0.25),
        100,
        'a random part of the step',
      );
    }
    assert.equal(
      retryDelayMs(
        retryPolicy({ retries: 10, baseDelayMs: 100, maxDelayMs: 1000 }),
        {
          error: failure('NETWORK_ERROR', 0),
          attempt: 8,
          replayable: true,
        },
        () => 1,
      ),
      1000,
    );
  });

  it('gives up after `retries`, on a body that cannot be sent again, and on anything else', () => {
    assert.equal(delay(failure('NETWORK_ERROR', 0), 3), undefined);
    assert.equal(delay(failure('RATE_LIMIT_EXCEEDED', 429, 10), 0, false), undefined);
    assert.equal(delay(failure('NETWORK_ERROR', 0), 0, false), undefined);
    for (const [code, status] of [
      ['BAD_REQUEST', 400],
      ['UNAUTHORIZED', 401],
      ['FILE_NOT_FOUND', 404],
      ['INTERNAL_SERVER_ERROR', 500],
      ['ABORTED', 0],
    ] as const) {
      assert.equal(delay(failure(code, status)), undefined, code);
    }
  });

  it('is off with retries: 0', () => {
    assert.equal(
      retryDelayMs(retryPolicy({ retries: 0 }), {
        error: failure('NETWORK_ERROR', 0),
        attempt: 0,
        replayable: true,
      }),
      undefined,
    );
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs('Tue, 01 Jan 2030 00:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Mon, 31 Dec 2029 23:00:00 GMT', now), 0, 'a date gone by: now');
    assert.equal(retryAfterMs(null, now), undefined);
    assert.equal(retryAfterMs('soon', now), undefined);
  });
});
