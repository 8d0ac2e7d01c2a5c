import { z } from 'zod';
import type { AnyRoute, RouteContract } from './route.ts';
import { errorBody } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

/**
 * Turns zod schemas into JSON Schema 2020-12 (the dialect of OpenAPI 3.1), moving the named ones
 * (`.meta({id})`) into `components.schemas`. Requests are described as zod reads them (`io: 'input'`),
 * responses as they are sent (`io: 'output'`, which also forbids properties the schema does not name).
 */
class SchemaBook {
  readonly components: Record<string, JsonSchema> = {};

  convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const suffix = io === 'input' ? 'Input' : '';
    const { $defs, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema & {
      $defs?: Record<string, JsonSchema>;
    };
    for (const [id, def] of Object.entries($defs ?? {})) {
      this.components[id + suffix] = this.relink(def, suffix);
    }
    return this.relink(json, suffix);
  }

  private relink(schema: JsonSchema, suffix: string): JsonSchema {
    const walk = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(walk);
      if (typeof value !== 'object' || value === null) return value;
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => key !== '$schema' && key !== '$id')
          .map(([key, v]) =>
            key === '$ref' && typeof v === 'string'
              ? [key, v.replace(/^#\/\$defs\/(.+)$/, `#/components/schemas/$1${suffix}`)]
              : [key, walk(v)],
          ),
      );
    };
    return walk(schema) as JsonSchema;
  }
}

/** `/files/:bucket/:key` → `/files/{bucket}/{key}` */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

function parameters(book: SchemaBook, location: 'path' | 'query', schema: z.ZodObject | undefined) {
  if (!schema) return [];
  const json = book.convert(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: location,
      required: location === 'path' || (json.required ?? []).includes(name),
      ...(description !== undefined && { description }),
      schema: rest,
    };
  });
}

function requestBody(book: SchemaBook, contract: RouteContract) {
  const body = contract.body;
  if (!body) return undefined;
  if ('json' in body) {
    return { required: true, content: { 'application/json': { schema: book.convert(body.json, 'input') } } };
  }
  if ('multipart' in body) {
    return {
      required: true,
      description: body.description,
      content: { 'multipart/form-data': { schema: book.convert(body.multipart, 'input') } },
    };
  }
  return {
    required: true,
    description: body.description,
    content: { [body.raw]: { schema: { type: 'string', contentMediaType: body.raw } } },
  };
}

const errorResponse = { $ref: '#/components/responses/Error' };
/** Every response carries one, errors and protocol-level rejections included. */
const requestIdHeader = { 'x-request-id': { $ref: '#/components/headers/RequestId' } };

function operation(book: SchemaBook, contract: RouteContract) {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(contract.responses)) {
    const content = response.schema
      ? { 'application/json': { schema: book.convert(response.schema, 'output') } }
      : response.contentType
        ? { [response.contentType]: { schema: {} } }
        : undefined;
    const headers = Object.entries(response.headers ?? {}).map(([name, description]) => [
      name,
      { description, schema: { type: 'string' } },
    ]);
    responses[status] = {
      description: response.description,
      headers: { ...requestIdHeader, ...Object.fromEntries(headers) },
      ...(content && { content }),
    };
  }
  responses.default = errorResponse;
  const body = requestBody(book, contract);
  return {
    operationId: contract.operationId,
    tags: [contract.tag],
    summary: contract.summary,
    ...(contract.description !== undefined && { description: contract.description }),
    security: contract.access === 'public' ? [] : [{ apiKeyHeader: [] }, { bearerKey: [] }, { basicKey: [] }],
    ...(contract.access !== 'public' && { 'x-stowage-scope': contract.access.scope }),
    parameters: [...parameters(book, 'path', contract.params), ...parameters(book, 'query', contract.query)],
    ...(body && { requestBody: body }),
    responses,
  };
}

/** The API's version as the document states it. */
const API_VERSION = '1.0.0';

/** The OpenAPI 3.1 document of the API at `serverUrl`, generated from the routes' contracts. */
export function openApiDocument(routes: readonly AnyRoute[], serverUrl: string) {
  const book = new SchemaBook();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { contract } of routes) {
    const path = openApiPath(contract.path);
    paths[path] ??= {};
    paths[path][contract.method] = operation(book, contract);
  }
  const error = book.convert(errorBody, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stowage API',
      version: API_VERSION,
      description:
        'Multi-tenant file and image storage. Authenticate with an API key in `x-api-key`, ' +
        '`Authorization: Bearer <key>`, or HTTP Basic with the key as the user name and an empty password.',
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: book.components,
      headers: {
        RequestId: {
          description: "The request's id, as in error bodies and the API's logs",
          required: true,
          schema: { type: 'string' },
        },
      },
      responses: {
        Error: {
          description:
            'Any failure: `{success: false, code, message, requestId}`, with `fields` for invalid input.',
          headers: requestIdHeader,
          content: { 'application/json': { schema: error } },
        },
      },
      securitySchemes: {
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        bearerKey: { type: 'http', scheme: 'bearer' },
        basicKey: {
          type: 'http',
          scheme: 'basic',
          description: 'The API key as the user name, with an empty password.',
        },
      },
    },
  };
}
