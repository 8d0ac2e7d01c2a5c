import type { NextFunction, Request, Response } from 'express';
import { forbidden, grants, unauthorized, type Scope } from '@stowage/core';
import type { Authenticator, Caller } from '../auth/authenticator.ts';
import { corsHeaders } from '../auth/cors-headers.ts';

/**
 * Requires an API key with `scope`. Every key problem is the same 401 (after `onFailure`, which may
 * refuse a client that fails too often); a key that works but lacks the scope, or is used from an
 * origin its tenant or key does not allow, gets 403 FORBIDDEN.
 */
export function requireCaller(
  auth: Authenticator,
  scope: Scope,
  onFailure: (req: Request, res: Response) => Promise<void>,
) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const caller = await auth.identify(req);
    if (!caller) {
      await onFailure(req, res);
      throw unauthorized();
    }
    // Known from here on, even if refused below: the audit log says whose key was refused.
    res.locals.caller = caller;
    const cors = corsHeaders({ by: 'key', caller }, req.headers.origin);
    if (!cors) throw forbidden('Origin not allowed for this API key');
    if (!grants(caller.scopes, scope)) throw forbidden(`This API key lacks the ${scope} scope`);
    res.set(cors);
    next();
  };
}

export const callerOf = (res: Response): Caller => res.locals.caller as Caller;
