import { serviceUnavailable, type FileOwner, type FileRecord } from '@stowage/core';
import type { ApiDeps } from '../deps.ts';
import { signQuery } from '../serving/signed-urls.ts';
import { findFile } from './find-file.ts';

export interface SignedFile {
  file: FileRecord;
  /** The query string that, added to the file's URL (or a variant's), lets anyone fetch it. */
  query: string;
  expiresAt: Date;
}

/**
 * Signs a stored file of the owner's mode for `seconds` (at most a second more): protected or not, the
 * file and its variants serve to whoever holds the URL until it expires (or the file does). It cannot be
 * revoked before then.
 */
export async function signFileUrl(
  deps: Pick<ApiDeps, 'cache' | 'config'>,
  owner: FileOwner,
  bucket: string,
  key: string,
  seconds: number,
): Promise<SignedFile> {
  const secret = deps.config.signingSecret;
  if (!secret) throw serviceUnavailable('Signed URLs are not configured on this server (SIGNING_SECRET)', 60);
  const file = await findFile(deps, owner, bucket, key);
  // `expires` is in whole seconds: rounded up, so the URL lives at least `seconds` (rounded down, one
  // signed for a second could be dead a millisecond after it was made).
  const expires = Math.ceil(Date.now() / 1000) + seconds;
  const query = signQuery(secret, { tenantId: file.tenantId, bucket, fileId: file.id }, expires);
  return { file, query, expiresAt: new Date(expires * 1000) };
}
