import type { Request, Response } from 'express';
import { badRequest, fileNotFound, getFile, serviceUnavailable } from '@stowage/core';
import type { ApiDeps } from '../../deps.ts';
import { signQuery } from '../../serving/signed-urls.ts';
import { callerOf } from '../caller.ts';
import { fileUrl } from '../file-view.ts';
import { jsonBody } from '../json-body.ts';
import { bucketName, fileKey } from '../names.ts';

const MAX_EXPIRES_IN = 7 * 24 * 3600;

function expiresIn(value: unknown): number {
  if (value === undefined) return 3600;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_EXPIRES_IN) {
    throw badRequest(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}`);
  }
  return value;
}

/**
 * POST /files/signed-url `{bucket, key, expiresIn}` — a URL that serves the file (protected or not,
 * and its variants) to whoever holds it, until it expires. It cannot be revoked before then.
 */
export function createSignedUrl(deps: ApiDeps) {
  return async (req: Request, res: Response) => {
    const caller = callerOf(res);
    const body = jsonBody(req);
    const bucket = bucketName(body.bucket);
    const key = fileKey(body.key);
    const seconds = expiresIn(body.expiresIn);
    const secret = deps.config.signingSecret;
    if (!secret)
      throw serviceUnavailable('Signed URLs are not configured on this server (SIGNING_SECRET)', 60);
    const file = await getFile(deps.pool, caller.tenantId, bucket, key);
    if (!file) throw fileNotFound();
    const expires = Math.floor(Date.now() / 1000) + seconds;
    const query = signQuery(secret, { tenantId: file.tenantId, bucket, fileId: file.id }, expires);
    res.json({
      success: true,
      url: `${fileUrl(deps.config.http.publicUrl, file, file.key)}?${query}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    });
  };
}
