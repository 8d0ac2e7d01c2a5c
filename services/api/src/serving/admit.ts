import { fileNotFound, grants, type FileRecord } from '@stowage/core';
import type { Caller } from '../auth/authenticator.ts';
import { corsHeaders, type Admission } from '../auth/cors-headers.ts';
import { verifySignedQuery } from './signed-urls.ts';

/** What a request to serve a file presents to be let in. */
export interface Credentials {
  /** A signed URL's query parameters, if it is one. */
  query: { expires?: string | undefined; signature?: string | undefined };
  /** The caller behind the request's API key; looked up only for a protected file without a signature. */
  identify: () => Promise<Pick<Caller, 'tenantId' | 'mode' | 'scopes' | 'allowedOrigins'> | undefined>;
  /** The origin of the page that sent the request, if a page did. */
  origin: string | undefined;
}

async function admission(
  file: FileRecord,
  credentials: Credentials,
  signingSecret: string | undefined,
): Promise<Admission> {
  if (file.allowPublicAccess) return { by: 'public' };
  const target = { tenantId: file.tenantId, bucket: file.bucket, fileId: file.id };
  if (signingSecret !== undefined && verifySignedQuery(signingSecret, target, credentials.query)) {
    return { by: 'signature' };
  }
  const caller = await credentials.identify();
  const sees = caller && caller.tenantId === file.tenantId && caller.mode === file.mode;
  if (!sees || !grants(caller.scopes, 'read')) throw fileNotFound();
  return { by: 'key', caller };
}

/**
 * Lets a request see a file: a public file to anyone; a protected one with a valid signed URL, or with a
 * read key of its own tenant and mode (a test key for a test file, a live key for a live one) used from
 * an origin the key allows. Anything else is 404, the same as a
 * file that does not exist, so nobody learns which protected files exist. Resolves to the answer's CORS
 * headers.
 */
export async function admit(
  file: FileRecord,
  credentials: Credentials,
  signingSecret: string | undefined,
): Promise<Record<string, string>> {
  const cors = corsHeaders(await admission(file, credentials, signingSecret), credentials.origin);
  if (!cors) throw fileNotFound();
  return cors;
}
