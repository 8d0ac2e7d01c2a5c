import { z } from 'zod';
import type { ApiDeps } from '../../deps.ts';
import { openApiDocument } from '../openapi.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

/** GET /openapi.json — the OpenAPI 3.1 document of every route, generated from their contracts. */
export function getOpenapi(deps: Pick<ApiDeps, 'config'>, routes: () => readonly AnyRoute[]) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return defineRoute({
    operationId: 'getOpenapi',
    method: 'get',
    path: '/openapi.json',
    tag: 'Meta',
    summary: 'This document',
    access: 'public',
    responses: {
      200: { description: 'The OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) },
    },
  }).handle(async () => {
    document ??= openApiDocument(routes(), deps.config.http.publicUrl);
    return { status: 200, body: document };
  });
}
