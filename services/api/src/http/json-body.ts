import type { Request } from 'express';
import type { z } from 'zod';
import { badRequest } from '@stowage/core';

/** The JSON body of a request, or 400 if there is none. */
export function jsonBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Send a JSON object body with Content-Type: application/json');
  }
  return body as Record<string, unknown>;
}

/** The JSON body parsed against `schema`, or 400 naming the first problem. */
export function parseBody<T>(req: Request, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(jsonBody(req));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badRequest(`${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}
