import { abortedError, errorFromResponse, networkError, StowageError } from './errors.ts';
import type { Outgoing } from './payload.ts';
import { retryDelayMs, retryPolicy, sleep, type RetryPolicy } from './retry.ts';
import type { StowageOptions } from './types.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiCall {
  method: 'GET' | 'POST' | 'PUT';
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
    const headers: Record<string, string> = { accept: 'application/json', 'x-api-key': this.options.apiKey };
    if (this.options.origin) headers.origin = this.options.origin;
    const body = call.json === undefined ? call.body : jsonBody(call.json);
    if (body)
      headers['content-type'] = call.json === undefined ? 'application/octet-stream' : 'application/json';
    return this.send(url, call.method, headers, body, call.signal, async (res) => {
      try {
        return (await res.json()) as T;
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

  /** PUTs a part of a direct upload to its presigned URL and answers the ETag the store gave it. */
  putPart(url: string, body: Outgoing, signal: AbortSignal | undefined): Promise<string> {
    return this.send(new URL(url), 'PUT', {}, body, signal, async (res) => {
      const etag = res.headers.get('etag');
      if (etag) return etag;
      throw new StowageError({
        code: 'UNEXPECTED_RESPONSE',
        status: res.status,
        // A browser sees only the headers the store's CORS rules expose.
        message: 'The object store answered a part without its ETag; its CORS rules must expose ETag',
      });
    });
  }

  /** One request, sent again as `retryDelayMs` allows; `read` takes a successful answer apart. */
  private async send<T>(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Outgoing | undefined,
    signal: AbortSignal | undefined,
    read: (res: Response) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let error: StowageError;
      try {
        const res = await this.fetch(url, {
          method,
          headers: withLength(headers, body),
          ...opened(body, signal),
          signal,
        });
        if (res.ok) return await read(res);
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
