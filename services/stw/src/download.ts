import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StowageError, type ErrorCode } from '@stowage/sdk/node';
import type { Connection } from './connection.ts';
import { parseTarget } from './format.ts';

export interface Download {
  body: Readable;
  /** From `Content-Length`, when the server sent it. */
  size: number | undefined;
  /** The name the file is served under, to save it as. */
  name: string;
}

/**
 * Starts downloading a file: `bucket/key` through a short-lived signed URL, a URL as it is. The API key
 * goes only to the API it belongs to (and `fetch` drops it on a redirect elsewhere, e.g. to S3).
 *
 * The SDK has no download call yet, so this is the one request stw sends itself.
 */
export async function download(target: string, { client, credentials }: Connection): Promise<Download> {
  let url: URL;
  const headers: Record<string, string> = {};
  if (/^https?:\/\//i.test(target)) {
    url = new URL(target);
    const signed = url.searchParams.has('signature');
    if (url.origin === new URL(credentials.url).origin && !signed)
      headers.authorization = `Bearer ${credentials.apiKey}`;
  } else {
    const { bucket, key } = parseTarget(target);
    url = new URL((await client.signedUrl(key, { bucket, expiresIn: 300 })).url);
  }
  const res = await fetch(url, { headers }).catch((cause: unknown) => {
    throw new StowageError({
      code: 'NETWORK_ERROR',
      status: 0,
      message: `No answer from ${url.origin}`,
      cause,
    });
  });
  if (!res.ok || !res.body) throw await errorOf(res);
  const length = res.headers.get('content-length');
  return {
    body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    size: length === null ? undefined : Number(length),
    name: decodeURIComponent(basename(url.pathname)),
  };
}

/** The API's error answer as the SDK would throw it. */
async function errorOf(res: Response): Promise<StowageError> {
  const body = (await res.json().catch(() => undefined)) as
    { code?: string; message?: string; requestId?: string } | undefined;
  return new StowageError({
    code: (body?.code ?? 'UNEXPECTED_RESPONSE') as ErrorCode,
    status: res.status,
    message: body?.message ?? `HTTP ${res.status} ${res.statusText}`.trim(),
    requestId: body?.requestId ?? res.headers.get('x-request-id') ?? undefined,
  });
}
