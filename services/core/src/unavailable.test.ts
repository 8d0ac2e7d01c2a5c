import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDependencyUnavailable } from './unavailable.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDependencyUnavailable', () => {
  it('recognises a dependency that is down or restarting, however deep the error is wrapped', () => {
    assert.ok(isDependencyUnavailable(withCode('ECONNREFUSED')));
    assert.ok(isDependencyUnavailable(new AggregateError([withCode('ECONNREFUSED')], 'connect')));
    assert.ok(isDependencyUnavailable(new Error('query failed', { cause: withCode('57P01') })));
    assert.ok(isDependencyUnavailable(withCode('08006')));
    assert.ok(isDependencyUnavailable(new Error('Connection terminated unexpectedly')));
    assert.ok(
      isDependencyUnavailable(Object.assign(new Error('SlowDown'), { $metadata: { httpStatusCode: 503 } })),
    );
  });

  it('leaves every other error alone', () => {
    assert.ok(!isDependencyUnavailable(new Error('boom')));
    assert.ok(!isDependencyUnavailable(withCode('23505'))); // a unique violation is a bug, not an outage
    assert.ok(
      !isDependencyUnavailable(Object.assign(new Error('NoSuchKey'), { $metadata: { httpStatusCode: 404 } })),
    );
    assert.ok(!isDependencyUnavailable(undefined));
  });
});
