import type { NextFunction, Request, Response } from 'express';
import { modeOfApiKey, publicPrefix } from '@stowage/core';
import { AuditContext, entryOf, type AuditRequest } from '../audit/audit-context.ts';
import type { AuditWriter } from '../audit/audit-writer.ts';
import { presentedKey, type Caller } from '../auth/authenticator.ts';
import { requestIdOf } from './request-context.ts';
import type { RouteContract } from './route.ts';

/** Requests refused at authentication: no key or an unknown one, a lacking scope or origin, too many tries. */
const REFUSALS = new Set([401, 403, 429]);
/** The status logged for a request whose client went away before its answer. */
const CLIENT_CLOSED = 499;
const MAX_USER_AGENT = 512;
const MAX_NAME = 255;

/** Whether a route changes something: a write or admin route not only reading. */
const mutates = (contract: RouteContract): boolean =>
  contract.access !== 'public' &&
  contract.access.scope !== 'read' &&
  contract.method !== 'get' &&
  contract.method !== 'head';

/** The status a route answers when its change is made: its first success. */
const successOf = (contract: RouteContract): number =>
  Math.min(
    ...Object.keys(contract.responses)
      .map(Number)
      .filter((status) => status < 300),
  );

/**
 * Who made the request, from its key: the caller's once authenticated, else what the presented key says
 * of itself. Only a well-formed key (right shape and checksum) gives a prefix, so no fragment of some
 * other secret pasted into the header is ever kept.
 */
function requestOf(req: Request, res: Response, contract: RouteContract, status: number): AuditRequest {
  const locals = res.locals as AuditLocals;
  const caller = res.locals.caller as Caller | undefined;
  const raw = presentedKey(req);
  const presentedMode = raw === undefined ? undefined : modeOfApiKey(raw);
  return {
    tenantId: caller?.tenantId ?? null,
    mode: caller?.mode ?? presentedMode ?? null,
    keyPrefix: presentedMode && raw !== undefined ? publicPrefix(raw) : null,
    action: contract.operationId,
    status,
    requestId: requestIdOf(res),
    clientAddress: locals.clientAddress !== undefined ? locals.clientAddress : (req.ip ?? null),
    userAgent: req.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null,
  };
}

/** The audit context a keyed route hands to the domain function that makes its change; one per request. */
export function auditContextOf(req: Request, res: Response, contract: RouteContract): AuditContext {
  const locals = res.locals as { audit?: AuditContext };
  locals.audit ??= new AuditContext(requestOf(req, res, contract, successOf(contract)));
  return locals.audit;
}

/**
 * Logs, when its response ends, what a keyed route's request did that no transaction recorded: a
 * mutating request that failed, was abandoned or changed nothing, and any request refused at
 * authentication. Entries go to the writer's batches; the request never waits for them.
 */
export function auditTrail(writer: AuditWriter, contract: RouteContract) {
  const mutating = mutates(contract);
  return (req: Request, res: Response, next: NextFunction) => {
    // Read while the request has its socket: once the client is gone, `req.ip` has none to read.
    (res.locals as AuditLocals).clientAddress = req.ip ?? null;
    const named = req.params as Named;
    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED;
      const recorded = (res.locals as { audit?: AuditContext }).audit?.written === true && status < 400;
      if (recorded || !(mutating || REFUSALS.has(status))) return;
      const target = {
        bucket: text(named.bucket ?? body(req).bucket),
        key: text(named.key ?? body(req).key),
      };
      writer.add(entryOf(requestOf(req, res, contract, status), target, new Date()));
    });
    next();
  };
}

type Named = { bucket?: unknown; key?: unknown };

/** What auditTrail keeps of a request for the entries written about it. */
interface AuditLocals {
  clientAddress?: string | null;
}

/** The JSON body's fields, if it was read (a request refused at authentication never gets that far). */
const body = (req: Request): Named => {
  const parsed: unknown = req.body;
  return typeof parsed === 'object' && parsed !== null ? (parsed as Named) : {};
};

/** A bucket or key as the client sent it, unchecked: a string, bounded. */
const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.slice(0, MAX_NAME) : undefined;
