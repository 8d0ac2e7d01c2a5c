import type { Request } from 'express';
import { badRequest } from '@stowage/core';

/** The JSON body of a request, or 400 if there is none. */
export function jsonBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('Send a JSON object body with Content-Type: application/json');
  }
  return body as Record<string, unknown>;
}
