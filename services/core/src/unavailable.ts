/** Socket errors of a dependency that is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL's SQLSTATEs for a server that is going away, starting up or out of connections: class 08
 * (connection exception), 57P01–57P03 (shut down by the administrator, crashed, cannot connect now) and
 * 53300 (too many connections).
 */
const POSTGRES_UNAVAILABLE = /^(08...|57P0[123]|53300)$/;

/** What node-postgres says when the server closes a connection under a query or a pooled client. */
const POSTGRES_CONNECTION_LOST = /^Connection terminated|not queryable|Connection ended/;

function unavailableItself(err: object): boolean {
  const e = err as { code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || POSTGRES_UNAVAILABLE.test(e.code)))
    return true;
  if (typeof e.message === 'string' && POSTGRES_CONNECTION_LOST.test(e.message)) return true;
  // An S3 store that answers but cannot serve yet (MinIO starting up, SlowDown): 503 from the store.
  return e.$metadata?.httpStatusCode === 503;
}

/**
 * Whether `test` holds for `err` or for anything that caused it: its `cause`, and the errors of an
 * AggregateError (a connection refused on every address of a host; Node 24's streams report a body's
 * error in one), a few levels deep.
 */
export function inErrorChain(err: unknown, test: (e: object) => boolean, depth = 0): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  if (test(err)) return true;
  const nested = [
    (err as { cause?: unknown }).cause,
    ...(err instanceof AggregateError ? (err.errors as unknown[]) : []),
  ];
  return nested.some((e) => inErrorChain(e, test, depth + 1));
}

/**
 * Whether `err` means that a dependency (PostgreSQL, the object store) could not be reached or is
 * restarting, rather than that something is wrong with the request or with Stowage: the client may send
 * the same request again once it is back. Looks through the error's chain.
 */
export function isDependencyUnavailable(err: unknown): boolean {
  return inErrorChain(err, unavailableItself);
}
