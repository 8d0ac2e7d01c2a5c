import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { badRequest, invalidInput, type FieldProblem, type Scope } from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { KeyedClass } from '../limits/rate-limit-middleware.ts';
import { auditContextOf } from './audit-trail.ts';
import { callerOf } from './caller.ts';

export type Method = 'get' | 'head' | 'post' | 'put' | 'patch' | 'delete';

/** What a route takes as its body. JSON is parsed and validated here; the others the route streams itself. */
export type BodyContract =
  | { json: z.ZodType; maxBytes?: number }
  | { multipart: z.ZodObject; description: string }
  | { raw: string; description: string };

export interface ResponseContract {
  description: string;
  /** The JSON body; absent for a response without one (or not JSON, see `contentType`). */
  schema?: z.ZodType;
  /** A body that is not JSON, e.g. a served file: `*\/*`. */
  contentType?: string;
  headers?: Record<string, string>;
}

/** Who may call a route: anyone, or an API key with a scope, limited per key in a rate-limit class. */
export type Access = 'public' | { scope: Scope; limit: KeyedClass };

/** Everything the API says about one operation: how it is called, who may call it, what it answers. */
export interface RouteContract {
  operationId: string;
  method: Method;
  /** An express path, e.g. `/files/:bucket/:key`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** Requests a minute from one client address, for a public route (it has no key to limit by). */
  limitPerClient?: number;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: BodyContract;
  responses: Record<number, ResponseContract>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
type JsonOf<B> = B extends { json: infer S } ? Out<S> : undefined;

/** What a handler answers: one of the statuses its contract declares, with a body of that status's shape. */
export type Reply<R extends Record<number, ResponseContract>> = {
  [S in keyof R & number]: R[S] extends { schema: infer Z extends z.ZodType }
    ? { status: S; body: z.input<Z> }
    : { status: S; body?: undefined };
}[keyof R & number];

export interface RouteInput<C extends RouteContract> {
  params: Out<C['params']>;
  query: Out<C['query']>;
  body: JsonOf<C['body']>;
  /** The API key's caller; on public routes, a placeholder that must not be used. */
  caller: C['access'] extends 'public' ? undefined : Caller;
  /** Where a keyed route's change records itself in the audit log; undefined on public routes. */
  audit: C['access'] extends 'public' ? undefined : AuditContext;
  req: Request;
  res: Response;
}

/**
 * A handler gets validated input and returns a reply, which is shaped by the status's schema. It may
 * also write the response itself (streamed bodies) and return nothing.
 */
export type Handler<C extends RouteContract> = (
  input: RouteInput<C>,
) => Promise<Reply<C['responses']> | undefined>;

export interface Route<C extends RouteContract> {
  contract: C;
  handle: Handler<C>;
}

/** A route of any contract, as a list of routes holds it. */
export interface AnyRoute {
  contract: RouteContract;
  handle(input: RouteInput<RouteContract>): Promise<{ status: number; body?: unknown } | undefined>;
}

/**
 * Declares a route: its contract, from which validation and the OpenAPI document come, then its handler
 * (`defineRoute({...}).handle(async (input) => reply)`; two steps so the handler is typed by the contract).
 */
export function defineRoute<const C extends RouteContract>(contract: C) {
  return { handle: (handle: Handler<C>): Route<C> => ({ contract, handle }) };
}

function problems(where: string, error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** The JSON body a route takes: an object, or 400 saying how to send one. */
function jsonObject(req: Request): unknown {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Send a JSON object body with Content-Type: application/json');
  }
  return body;
}

/** Parses a request's params, query and JSON body against the contract; every problem at once, or 400. */
export function parseInput(contract: RouteContract, req: Request) {
  const found: FieldProblem[] = [];
  const parse = (where: string, schema: z.ZodType | undefined, value: () => unknown) => {
    if (!schema) return undefined;
    const parsed = schema.safeParse(value());
    if (parsed.success) return parsed.data;
    found.push(...problems(where, parsed.error));
    return undefined;
  };
  const params = parse('params', contract.params, () => req.params);
  const query = parse('query', contract.query, () => req.query);
  const body =
    contract.body && 'json' in contract.body
      ? parse('body', contract.body.json, () => jsonObject(req))
      : undefined;
  if (found.length) throw invalidInput(found);
  return { params, query, body };
}

/** The express handler for a route: parse → handle → shape the reply with its schema. */
export function expressHandler(route: AnyRoute): RequestHandler {
  const { contract, handle } = route;
  return async (req, res) => {
    const input = parseInput(contract, req);
    const keyed = contract.access !== 'public';
    const caller = keyed ? callerOf(res) : undefined;
    const audit = keyed ? auditContextOf(req, res, contract) : undefined;
    const reply = await handle({ ...input, caller, audit, req, res } as RouteInput<RouteContract>);
    if (!reply) return;
    const schema = contract.responses[reply.status]?.schema;
    res.status(reply.status);
    if (schema) res.json(schema.parse(reply.body));
    else res.end();
  };
}
