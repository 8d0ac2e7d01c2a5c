import type { Request, Response } from 'express';
import { inErrorChain } from '@stowage/core';

/** Why work for a request was stopped: its client went away before the response was complete. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('client disconnected');
  }
}

/** Aborted (with a ClientGoneError) when the client goes away before the response is complete. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new ClientGoneError());
  });
  return controller.signal;
}

/**
 * Whether `err` comes from the client going away: it is, or was caused by, the ClientGoneError of
 * `clientGone`, or the error node destroyed the request body with when the connection closed under it.
 */
export function causedByClientGone(err: unknown, req: Request): boolean {
  return inErrorChain(err, (e) => e instanceof ClientGoneError || e === req.errored);
}

/**
 * The body size a request declares in Content-Length; 0 when absent (chunked transfer). HTTP framing
 * guarantees the body is no longer, so it can size a quota reservation; the bytes are still counted.
 */
export function declaredLength(req: Request): number {
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}
