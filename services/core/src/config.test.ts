import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.databaseUrl, undefined);
    assert.deepEqual(config.s3, {
      endpoint: undefined,
      publicEndpoint: undefined,
      region: 'us-east-1',
      credentials: undefined,
      forcePathStyle: true,
      bucketPrefix: 'stowage-',
    });
    assert.deepEqual(config.http, {
      port: 8080,
      host: '0.0.0.0',
      metricsPort: 9464,
      publicUrl: 'http://localhost:8080',
      trustProxy: 'loopback, linklocal, uniquelocal',
      shutdownDelayMs: 0,
    });
    assert.equal(config.maxFileSizeLimit, 10 * 2 ** 30);
    assert.equal(config.downloadRedirectBytes, undefined);
    assert.equal(config.dataDir, '.stowage');
    assert.equal(config.testFileTtlSeconds, 24 * 3600);
  });

  it('reads every setting', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_PUBLIC_ENDPOINT: 'https://s3.example.com',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'false',
      S3_BUCKET_PREFIX: 'files-',
      PORT: '9000',
      PUBLIC_URL: 'https://files.example.com/',
      MAX_FILE_SIZE_LIMIT: '20Gi',
      DOWNLOAD_REDIRECT_SIZE: '64Mi',
      KEY_CACHE_TTL_MS: '500',
      SHUTDOWN_DELAY_SECONDS: '5',
      STOWAGE_DATA_DIR: '/var/lib/stowage',
      TEST_FILE_TTL: '90m',
    });
    assert.equal(config.http.shutdownDelayMs, 5000);
    assert.equal(config.databaseUrl, 'postgres://u@127.0.0.1:5432/db');
    assert.equal(config.redisUrl, 'redis://127.0.0.1:6379');
    assert.deepEqual(config.s3, {
      endpoint: 'http://127.0.0.1:9000',
      publicEndpoint: 'https://s3.example.com',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: false,
      bucketPrefix: 'files-',
    });
    assert.equal(config.http.port, 9000);
    assert.equal(config.http.publicUrl, 'https://files.example.com');
    assert.equal(config.maxFileSizeLimit, 20 * 2 ** 30);
    assert.equal(config.downloadRedirectBytes, 64 * 2 ** 20);
    assert.equal(config.keyCacheTtlMs, 500);
    assert.equal(config.dataDir, '/var/lib/stowage');
    assert.equal(config.testFileTtlSeconds, 5400);
    assert.equal(loadConfig({ TEST_FILE_TTL: '3600' }).testFileTtlSeconds, 3600, 'or plain seconds');
  });

  it('treats empty variables as unset', () => {
    assert.deepEqual(loadConfig({ DATABASE_URL: '', S3_ACCESS_KEY_ID: '', PORT: '' }), loadConfig({}));
  });

  it('names the variable that is wrong', () => {
    assert.throws(
      () => loadConfig({ DATABASE_URL: 'mysql://x' }),
      (err: unknown) => err instanceof ConfigError && /DATABASE_URL/.test(err.message),
    );
    assert.throws(() => loadConfig({ S3_FORCE_PATH_STYLE: 'maybe' }), /S3_FORCE_PATH_STYLE/);
    assert.throws(() => loadConfig({ PORT: 'eighty' }), /PORT/);
    assert.throws(() => loadConfig({ MAX_FILE_SIZE_LIMIT: '10GB' }), /MAX_FILE_SIZE_LIMIT/);
    assert.throws(() => loadConfig({ KEY_CACHE_TTL_MS: '5000' }), /KEY_CACHE_TTL_MS/);
    assert.throws(() => loadConfig({ DOWNLOAD_REDIRECT_SIZE: '0' }), /DOWNLOAD_REDIRECT_SIZE/);
    assert.throws(() => loadConfig({ TEST_FILE_TTL: '1 day' }), /TEST_FILE_TTL/);
    assert.throws(() => loadConfig({ TEST_FILE_TTL: '0' }), /TEST_FILE_TTL/);
  });

  it('rejects half a set of S3 credentials', () => {
    assert.throws(() => loadConfig({ S3_ACCESS_KEY_ID: 'id' }), /must be set together/);
  });
});
