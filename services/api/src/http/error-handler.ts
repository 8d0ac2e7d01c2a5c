import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  ObjectNotFoundError,
  badRequest,
  dependencyUnavailable,
  fileNotFound,
  isDependencyUnavailable,
  internalError,
  routeNotFound,
  requestBodyTooLarge,
  type Logger,
} from '@stowage/core';
import { causedByClientGone } from './request-body.ts';
import { requestIdOf } from './request-context.ts';
import type { ErrorBody } from './schemas.ts';

/** Errors that mean something to the client although they are not AppErrors. */
function translate(err: unknown, req: Request): AppError | undefined {
  if (err instanceof AppError) return err;
  // The row exists but its object does not: to the client, the file is not there.
  if (err instanceof ObjectNotFoundError) return fileNotFound();
  // PostgreSQL or the store down or restarting: nothing is wrong with the request, it can be sent again.
  if (isDependencyUnavailable(err)) return dependencyUnavailable(err);
  // express's own body parser errors carry a status and a type.
  const e = err as { type?: unknown; status?: unknown; limit?: unknown; expose?: unknown };
  if (e.type === 'entity.parse.failed') return badRequest('Malformed JSON body');
  if (e.type === 'entity.too.large') return requestBodyTooLarge(Number(e.limit));
  if (typeof e.type === 'string' && e.status === 400) return badRequest('Malformed request body');
  // express reports a path it cannot percent-decode as a URIError with status 400.
  if (err instanceof URIError) return badRequest('Malformed URL encoding');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
    return badRequest('Unsupported body encoding');
  // A body that does not decompress reaches us as zlib's own error, which the body parser marks as the
  // client's (status 400, expose) without giving it a type.
  if (e.status === 400 && e.expose === true && req.headers['content-encoding'] !== undefined)
    return badRequest('The body does not decompress as its Content-Encoding says');
  return undefined;
}

/** The documented error body for `error`. */
export function errorBody(error: AppError, requestId: string): ErrorBody {
  return {
    success: false,
    code: error.code,
    message: error.message,
    requestId,
    ...(error.suggestion !== undefined && { suggestion: error.suggestion }),
    ...(error.fields !== undefined && { fields: error.fields }),
  };
}

/**
 * The one place that turns errors into responses: `{success: false, code, message, requestId}`. (What
 * node's HTTP parser refuses never reaches express; client-errors.ts answers it with the same body.)
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const requestId = requestIdOf(res);
    // Nobody is left to answer, and nothing went wrong on our side.
    if (causedByClientGone(err, req)) {
      logger.info(
        { requestId, method: req.method, path: req.path },
        'client disconnected before the response was complete',
      );
      return;
    }
    const appError = translate(err, req);
    if (!appError) logger.error({ err, requestId, method: req.method, path: req.path }, 'unhandled error');
    else if (appError.cause !== undefined && appError.code === 'SERVICE_UNAVAILABLE')
      logger.warn({ err, requestId, method: req.method, path: req.path }, 'dependency unavailable');
    const error = appError ?? internalError(err);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(error.status).set(error.headers);
    // A HEAD answer says what its GET would send: the error body's type, without the body.
    if (req.method === 'HEAD') res.type('json').end();
    else res.json(errorBody(error, requestId));
  };
}

/** Anything no route matched. */
export function notFound(_req: Request, _res: Response, next: NextFunction) {
  next(routeNotFound());
}
