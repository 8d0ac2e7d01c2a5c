import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError, type FileRecord } from '@stowage/core';
import { resolveObject } from './resolve-object.ts';
import { parseServeTarget } from './serve-target.ts';

const id = '0f070692-8186-4b8d-86b9-e55d3e99f0b8';
const createdAt = new Date('2026-01-02T03:04:05Z');
const photo: FileRecord = {
  id,
  tenantId: 'acme',
  bucket: 'avatars',
  key: `${id}.png`,
  originalName: 'me.png',
  mimetype: 'image/png',
  size: 5000,
  etag: `"${id}"`,
  allowPublicAccess: true,
  variantStatus: 'ready',
  variants: { thumb: { status: 'ready', size: 300 }, small: { status: 'failed' } },
  tags: [],
  metadata: {},
  createdAt,
  updatedAt: createdAt,
  mode: 'live',
  expiresAt: null,
};
const target = (filename: string) => parseServeTarget({ tenantId: 'acme', bucket: 'avatars', filename })!;
const failsWith =
  (code: string) =>
  (err: unknown): err is AppError =>
    err instanceof AppError && err.code === code;

describe('resolveObject', () => {
  it('sends an original under its own key', () => {
    assert.deepEqual(resolveObject(photo, target(`${id}.png`)), {
      key: `${id}.png`,
      size: 5000,
      mimetype: 'image/png',
      etag: `"${id}"`,
      lastModified: createdAt,
    });
  });

  it('sends a ready variant as WebP with an ETag of its own', () => {
    assert.deepEqual(resolveObject(photo, target(`${id}-thumb.webp`)), {
      key: `${id}-thumb.webp`,
      size: 300,
      mimetype: 'image/webp',
      etag: `"${id}-thumb"`,
      lastModified: createdAt,
    });
  });

  it('answers 404 for another extension and for variants that failed or were never made', () => {
    assert.throws(() => resolveObject(photo, target(`${id}.jpg`)), failsWith('FILE_NOT_FOUND'));
    assert.throws(() => resolveObject(photo, target(`${id}-small.webp`)), failsWith('FILE_NOT_FOUND'));
    assert.throws(() => resolveObject(photo, target(`${id}-large.webp`)), failsWith('FILE_NOT_FOUND'));
    const document = { ...photo, key: `${id}.pdf`, variantStatus: 'none' as const, variants: {} };
    assert.throws(() => resolveObject(document, target(`${id}-thumb.webp`)), failsWith('FILE_NOT_FOUND'));
  });

  it('answers 503 with Retry-After for a variant still being made', () => {
    const pending = { ...photo, variantStatus: 'pending' as const, variants: {} };
    assert.throws(
      () => resolveObject(pending, target(`${id}-large.webp`)),
      (err) => failsWith('SERVICE_UNAVAILABLE')(err) && Number(err.headers['retry-after']) > 0,
    );
    assert.equal(resolveObject(pending, target(`${id}.png`)).key, `${id}.png`, 'the original is there');
  });
});
