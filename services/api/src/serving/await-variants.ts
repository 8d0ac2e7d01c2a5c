import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { getFileById, type FileRecord } from '@stowage/core';

/** The file once its variants are no longer pending, or as it is after `waitMs`. */
export async function awaitVariants(pool: pg.Pool, file: FileRecord, waitMs: number): Promise<FileRecord> {
  const deadline = Date.now() + waitMs;
  let current = file;
  while (current.variantStatus === 'pending' && Date.now() < deadline) {
    await sleep(200);
    current = (await getFileById(pool, file.tenantId, file.bucket, file.id)) ?? current;
  }
  return current;
}
