import type { ObjectStore } from '@stowage/core';
import type { Change } from './change.ts';

/** The tenant's object-store bucket, created and tagged with the tenant it belongs to. */
export async function ensureTenantBucket(
  store: ObjectStore,
  bucket: string,
  tags: Record<string, string>,
): Promise<Change[]> {
  if (await store.bucketExists(bucket)) return [];
  await store.ensureBucket(bucket, { tags });
  return [{ reason: 'BucketCreated', message: `bucket ${bucket} created` }];
}

/** Removes the bucket with every object and unfinished upload in it. Idempotent. */
export async function cleanupTenantBucket(store: ObjectStore, bucket: string): Promise<Change[]> {
  await store.removeBucket(bucket);
  return [{ reason: 'BucketDeleted', message: `bucket ${bucket} and its objects deleted` }];
}
