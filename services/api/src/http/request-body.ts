import type { Request, Response } from 'express';

/** Aborted when the client goes away before the response is complete. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  return controller.signal;
}

/**
 * The body size a request declares in Content-Length; 0 when absent (chunked transfer). HTTP framing
 * guarantees the body is no longer, so it can size a quota reservation; the bytes are still counted.
 */
export function declaredLength(req: Request): number {
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) && length > 0 ? length : 0;
}
