import { abortedError, errorFromResponse, networkError, StowageError } from './errors.ts';
import type { Outgoing } from './payload.ts';
import { retryDelayMs, retryPolicy, sleep, type RetryPolicy } from './retry.ts';
import type { StowageOptions } from './types.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  json?: unknown;
  body?: Outgoing;
  signal?: AbortSignal | undefined;
}

/** Sends the SDK's requests: the API's, with the key, and presigned part uploads, without it. */
export class Transport {
  private readonly baseUrl: string;
  private readonly policy: RetryPolicy;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: StowageOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.policy = retryPolicy(options.retry);
    // Called through globalThis: browsers refuse a fetch detached from its window.
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Calls the API and answers its JSON. */
  api<T>(call: ApiCall): Promise<T> {
    const url = new URL(this.baseUrl + call.path);
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.keyHeaders() };
    if (call.json !== undefined) headers['content-type'] = 'application/json';
    else if (call.body) headers['content-type'] = 'application/octet-stream';
    const body = call.json === undefined ? call.body : jsonBody(call.json);
    return this.send(url, call.method, headers, body, call.signal, async (res) => {
      // Read whole first: a connection lost while reading is a network error, and retried.
      const text = await res.text();
      try {
        return JSON.parse(text) as T;
      } catch (cause) {
        throw new StowageError({
          code: 'UNEXPECTED_RESPONSE',
          status: res.status,
          message: 'The answer is not JSON',
          requestId: res.headers.get('x-request-id') ?? undefined,
          cause,
        });
      }
    });
  }

  /**
   * GETs a file, its body unread. The key goes only with a request to the API's own origin (a signed URL
   * needs none); a redirect from there, e.g. to the object store, is followed without it.
   */
  async getFile(url: URL, signal: AbortSignal | undefined): Promise<Response> {
    for (let hops = 0; hops < MAX_REDIRECTS; hops++) {
      const own = url.origin === new URL(this.baseUrl).origin && !url.searchParams.has('signature');
      const headers = own ? this.keyHeaders() : {};
      const res = await this.send(url, 'GET', headers, undefined, signal, async (r) => r, own);
      const location = res.headers.get('location');
      if (!own || location === null) return res;
      await res.body?.cancel();
      url = new URL(location, url);
    }
    throw new StowageError({ code: 'UNEXPECTED_RESPONSE', status: 0, message: 'Too many redirects' });
  }

  /** PUTs a part of a direct upload to its presigned URL and answers the ETag the store gave it. */
  putPart(url: string, body: Outgoing, signal: AbortSignal | undefined): Promise<string> {
    return this.send(new URL(url), 'PUT', {}, body, signal, async (res) => {
      const etag = res.headers.get('etag');
      await res.body?.cancel();
      if (etag) return etag;
      throw new StowageError({
        code: 'UNEXPECTED_RESPONSE',
        status: res.status,
        // A browser sees only the headers the store's CORS rules expose.
        message: 'The object store answered a part without its ETag; its CORS rules must expose ETag',
      });
    });
  }

  private keyHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'x-api-key': this.options.apiKey };
    if (this.options.origin) headers.origin = this.options.origin;
    return headers;
  }

  /**
   * One request, sent again as `retryDelayMs` allows; `read` takes a successful answer apart, and a
   * redirect too when `redirects` are the caller's to follow.
   */
  private async send<T>(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Outgoing | undefined,
    signal: AbortSignal | undefined,
    read: (res: Response) => Promise<T>,
    redirects = false,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let error: StowageError;
      try {
        const res = await this.fetch(url, {
          method,
          headers: withLength(headers, body),
          ...opened(body, signal),
          signal,
          redirect: redirects ? 'manual' : 'follow',
        });
        if (res.ok || (redirects && isRedirect(res))) return await read(res);
        error = await errorFromResponse(res);
      } catch (err) {
        if (signal?.aborted) throw abortedError(signal);
        if (err instanceof StowageError) throw err;
        error = networkError(err);
      }
      const delay = retryDelayMs(this.policy, { error, attempt, replayable: body?.replayable() ?? true });
      if (delay === undefined) throw error;
      await sleep(delay, signal);
    }
  }
}

const MAX_REDIRECTS = 5;

/**
 * A redirect to follow by hand. Browsers hide where a redirect goes (`opaqueredirect`): there it is an
 * unexpected answer, and a signed URL is the way to download.
 */
const isRedirect = (res: Response) => res.status >= 300 && res.status < 400 && res.headers.has('location');

function jsonBody(value: unknown): Outgoing {
  const text = JSON.stringify(value);
  return { open: () => text, size: undefined, replayable: () => true };
}

/** A streamed body of known size still goes with its Content-Length (presigned parts require it). */
function withLength(headers: Record<string, string>, body: Outgoing | undefined) {
  return body?.size === undefined ? headers : { ...headers, 'content-length': String(body.size) };
}

/** The body of one attempt; streams need `duplex: 'half'` (the request is sent while it is read). */
function opened(body: Outgoing | undefined, signal: AbortSignal | undefined): RequestInit {
  if (!body) return {};
  const init = body.open(signal);
  return init instanceof ReadableStream ? { body: init, duplex: 'half' } : { body: init };
}
