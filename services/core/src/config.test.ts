import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadInfraConfig } from './config.ts';

describe('loadInfraConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadInfraConfig({});
    assert.equal(config.databaseUrl, undefined);
    assert.deepEqual(config.s3, {
      endpoint: undefined,
      region: 'us-east-1',
      credentials: undefined,
      forcePathStyle: true,
    });
  });

  it('reads every setting', () => {
    const config = loadInfraConfig({
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'false',
    });
    assert.equal(config.databaseUrl, 'postgres://u@127.0.0.1:5432/db');
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');
    assert.deepEqual(config.s3, {
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: false,
    });
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadInfraConfig({ DATABASE_URL: 'mysql://x' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /DATABASE_URL/);
        return true;
      },
    );
    assert.throws(() => loadInfraConfig({ S3_FORCE_PATH_STYLE: 'maybe' }), /S3_FORCE_PATH_STYLE/);
  });

  it('rejects half a set of S3 credentials', () => {
    assert.throws(() => loadInfraConfig({ S3_ACCESS_KEY_ID: 'id' }), /must be set together/);
  });
});
