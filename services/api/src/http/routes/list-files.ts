import type { Request, Response } from 'express';
import { badRequest, listFiles } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { callerOf } from '../caller.ts';
import { fileView } from '../file-view.ts';
import { bucketName } from '../names.ts';

function pageLimit(value: unknown): number {
  if (value === undefined) return 100;
  const limit = typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 1000)) throw badRequest('limit must be a whole number from 1 to 1000');
  return limit;
}

/** GET /files/:bucket — a page of the bucket's files, oldest first. */
export function listBucketFiles(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const bucket = bucketName(req.params.bucket);
    const limit = pageLimit(req.query.limit);
    const cursor = req.query.cursor;
    if (cursor !== undefined && typeof cursor !== 'string') throw badRequest('Invalid cursor');
    const page = await listFiles(deps.pool, caller.tenantId, bucket, { limit, cursor });
    res.json({
      success: true,
      bucket,
      files: page.files.map((file) => fileView(deps.config.http.publicUrl, file)),
      nextCursor: page.nextCursor,
      hasMore: page.nextCursor !== null,
    });
  };
}
