import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServeTarget } from './serve-target.ts';

const id = '0f070692-8186-4b8d-86b9-e55d3e99f0b8';
const path = (filename: string, tenantId = 'acme', bucket = 'avatars') => ({ tenantId, bucket, filename });

describe('parseServeTarget', () => {
  it('reads an original and a variant', () => {
    assert.deepEqual(parseServeTarget(path(`${id}.png`)), {
      tenantId: 'acme',
      bucket: 'avatars',
      filename: `${id}.png`,
      fileId: id,
      variant: undefined,
    });
    assert.deepEqual(parseServeTarget(path(`${id}-thumb.webp`)), {
      tenantId: 'acme',
      bucket: 'avatars',
      filename: `${id}-thumb.webp`,
      fileId: id,
      variant: 'thumb',
    });
  });

  it('names nothing for paths no upload could have', () => {
    for (const bad of [
      path(`${id}.png`, 'Acme'),
      path(`${id}.png`, 'acme', '..'),
      path(`${id}.png`, 'acme', 'a'.repeat(64)),
      path(`${id}`),
      path(`${id}.`),
      path(`${id}-huge.webp`),
      path(`${id}-thumb.png`),
      path(`${id.toUpperCase()}.png`),
      path(`x${id}.png`),
      path('../../etc/passwd'),
    ]) {
      assert.equal(parseServeTarget(bad), undefined, JSON.stringify(bad));
    }
  });
});
