import { originAllowed, type Caller } from './authenticator.ts';

const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS =
  'x-api-key, authorization, content-type, range, if-range, if-none-match, if-modified-since, x-request-id';
const EXPOSED_HEADERS =
  'x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, x-ratelimit-interval, retry-after, content-range, etag';

/** How a request was let in, which decides what pages in a browser may read the answer. */
export type Admission =
  /**
   * A preflight carries no API key, so it cannot know whose origin list applies: it is answered for any
   * origin that some tenant or key allows, and the real request is then held to its own key's list.
   */
  | { by: 'preflight'; known: { anyOrigin: boolean; origins: string[] } }
  /** An API key: pages at the origins its key (or else its tenant) allows. */
  | { by: 'key'; caller: Pick<Caller, 'allowedOrigins'> }
  /** A public file: every page. */
  | { by: 'public' }
  /** A signed URL: links, images and players, but no page's script. */
  | { by: 'signature' };

const readableBy = (origin: string) => ({
  'access-control-allow-origin': origin,
  'access-control-expose-headers': EXPOSED_HEADERS,
  vary: 'Origin',
});

/**
 * The one place that decides CORS: the headers that answer a request from `origin` (undefined when no
 * page sent it) let in as `admission`, or undefined when requests from that origin must be refused.
 */
export function corsHeaders(
  admission: Admission,
  origin: string | undefined,
): Record<string, string> | undefined {
  switch (admission.by) {
    case 'public':
      return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
    case 'signature':
      return {};
    case 'key':
      if (origin === undefined) return {};
      return originAllowed(admission.caller, origin) ? readableBy(origin) : undefined;
    case 'preflight': {
      if (origin === undefined) return {};
      const { anyOrigin, origins } = admission.known;
      if (!anyOrigin && !origins.includes(origin)) return undefined;
      return {
        ...readableBy(origin),
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      };
    }
  }
}
