import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

/** The parts of an OpenAPI 3.1 document that responses are checked against. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components?: Record<string, Record<string, unknown>>;
}

export interface OperationObject {
  operationId?: string;
  parameters?: { name: string; in: string }[];
  responses?: Record<string, ResponseObject | Reference>;
}

export interface ResponseObject {
  headers?: Record<string, HeaderObject | Reference>;
  content?: Record<string, { schema?: unknown }>;
}

export interface HeaderObject {
  required?: boolean;
}

export interface Reference {
  $ref: string;
}

/** A documented operation: its method, path template and where it sits in the document. */
export interface Operation {
  method: string;
  template: string;
  pointer: string;
  operation: OperationObject;
}

/** What a checked response is made of; the body as text, only read where it is checked. */
export interface ReceivedResponse {
  status: number;
  headers: Headers;
  body(): Promise<string>;
}

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace'];
/** Keywords OpenAPI 3.1 adds to JSON Schema. */
const OPENAPI_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];
/** The document's own fields: schemas are compiled in place, under the document as their root, and
 * ajv's strict mode would take these for unknown keywords of that root. */
const DOCUMENT_FIELDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
];

const pointerSegment = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
const mediaType = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase();
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

/** Literal path segments outrank templated ones, as OpenAPI matches paths. */
function moreSpecific(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const literalA = !a[i]!.startsWith('{');
    const literalB = !b[i]!.startsWith('{');
    if (literalA !== literalB) return literalA ? -1 : 1;
  }
  return 0;
}

/**
 * One API's OpenAPI document, able to find the operation a request is for and to say what in a
 * response breaks the document: an undocumented status, header, content type or body.
 */
export class ApiContract {
  readonly operations: Operation[] = [];
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });

  constructor(readonly document: OpenApiDocument) {
    formats.default(this.ajv);
    this.ajv.addVocabulary([...OPENAPI_KEYWORDS, ...DOCUMENT_FIELDS]);
    this.ajv.addSchema(document as object, 'openapi.json');
    for (const [template, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS.filter((m) => item[m])) {
        const pointer = `/paths/${pointerSegment(template)}/${method}`;
        this.operations.push({ method, template, pointer, operation: item[method]! });
      }
    }
  }

  /** The validator of the schema at a JSON pointer into the document, refs resolved against it. */
  schemaAt(pointer: string): ValidateFunction {
    const validate = this.ajv.getSchema(`openapi.json#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer} in the document`);
    return validate;
  }

  /** The documented operation for a method and a request path (percent-encoded, no query). */
  find(method: string, path: string): Operation | undefined {
    const segments = (path.length > 1 ? path.replace(/\/$/, '') : path).split('/');
    const matches = this.operations
      .map((op) => ({ op, parts: op.template.split('/') }))
      .filter(
        ({ op, parts }) =>
          op.method === method.toLowerCase() &&
          parts.length === segments.length &&
          parts.every((part, i) => (part.startsWith('{') ? segments[i] !== '' : part === segments[i])),
      )
      .sort((a, b) => moreSpecific(a.parts, b.parts));
    return matches[0]?.op;
  }

  /** What breaks the document in the response to `method path`; nothing when it keeps to it. */
  async problems(method: string, path: string, res: ReceivedResponse): Promise<string[]> {
    const op = this.find(method, path);
    if (op) return this.responseProblems(op, method, res);
    // No operation here: the only answer that keeps to the document is "there is none".
    if (res.status !== 404) return [`the document has no operation ${method.toUpperCase()} ${path}`];
    return this.bodyProblems(
      this.locate<ResponseObject>({ $ref: '#/components/responses/Error' }),
      method,
      res,
    );
  }

  /** The object a reference points at, or the object itself. */
  deref<T extends object>(value: T | Reference): T {
    return this.locate(value).value;
  }

  /** The object a reference points at and its pointer, or the object itself at `pointer`. */
  private locate<T extends object>(value: T | Reference, pointer = ''): { value: T; pointer: string } {
    if (!('$ref' in value)) return { value, pointer };
    const target = value.$ref.replace(/^#/, '');
    let found: unknown = this.document;
    for (const segment of target.split('/').slice(1)) {
      found = (found as Record<string, unknown> | undefined)?.[
        segment.replaceAll('~1', '/').replaceAll('~0', '~')
      ];
    }
    if (found === undefined) throw new Error(`unresolvable ${value.$ref} in the document`);
    return { value: found as T, pointer: target };
  }

  private async responseProblems(op: Operation, method: string, res: ReceivedResponse) {
    const responses = op.operation.responses ?? {};
    const status = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((s) => responses[s]);
    if (!status)
      return [`status ${res.status} is not documented for ${op.method.toUpperCase()} ${op.template}`];
    const response = this.locate<ResponseObject>(responses[status]!, `${op.pointer}/responses/${status}`);
    const missing = Object.entries(response.value.headers ?? {})
      .filter(([name, header]) => this.deref(header).required && !res.headers.has(name))
      .map(([name]) => `required header ${name} is missing`);
    return [...missing, ...(await this.bodyProblems(response, method, res))];
  }

  /** The response's content type and body against a documented response (and its pointer). */
  private async bodyProblems(
    { value: response, pointer }: { value: ResponseObject; pointer: string },
    method: string,
    res: ReceivedResponse,
  ): Promise<string[]> {
    const documented = Object.keys(response.content ?? {});
    const bodyless = method.toUpperCase() === 'HEAD' || res.status === 204 || res.status === 304;
    const header = res.headers.get('content-type');
    if (header === null) {
      if (bodyless) return [];
      if ((await res.body()) !== '') return ['a body without a Content-Type'];
      return documented.length ? [`no body, where the document says ${documented.join(' or ')}`] : [];
    }
    // A HEAD answer's Content-Type describes what its GET would send, not a body of its own.
    if (method.toUpperCase() === 'HEAD' && documented.length === 0) return [];
    const type = mediaType(header);
    const key = [type, `${type.split('/')[0]}/*`, '*/*'].find((t) => documented.includes(t));
    if (!key) return [`Content-Type ${type} is not documented (${documented.join(', ') || 'no body'})`];
    if (bodyless || !isJson(type) || response.content![key]!.schema === undefined) return [];
    const text = await res.body();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`the body is not JSON: ${text.slice(0, 200)}`];
    }
    const validate = this.schemaAt(`${pointer}/content/${pointerSegment(key)}/schema`);
    if (validate(body)) return [];
    return [`the body breaks its schema: ${this.ajv.errorsText(validate.errors, { dataVar: 'body' })}`];
  }
}

/** The contract of every API this process watches, by origin. */
const watched = new Map<string, ApiContract>();
const uncheckedFetch = globalThis.fetch;

async function checkedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const res = await uncheckedFetch(input, init);
  const url = new URL(res.url || String(input instanceof Request ? input.url : input));
  const contract = watched.get(url.origin);
  // A redirect leaves the API (to S3): the API's own 30x is checked where a test does not follow it.
  if (!contract || res.redirected) return res;
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  // CORS preflights are answered for every path by the CORS layer, outside the operations.
  if (method === 'OPTIONS') return res;
  // The body is read from a clone, and only where it is checked: a clone nobody reads would hold a
  // whole download in memory.
  const problems = await contract.problems(method, url.pathname, {
    status: res.status,
    headers: res.headers,
    body: () => res.clone().text(),
  });
  if (problems.length) {
    throw new Error(
      `${method} ${url.pathname}${url.search} answered ${res.status}, which breaks ${url.origin}/openapi.json:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return res;
}

/**
 * From now on, every response the API at `url` sends to this process's `fetch` is checked against
 * the API's own /openapi.json, and a response that breaks it fails the request (and so the test that
 * made it). Resolves to a function that stops watching (the port may serve something else later).
 */
export async function watchApi(url: string): Promise<() => void> {
  const { origin } = new URL(url);
  const res = await uncheckedFetch(`${origin}/openapi.json`);
  if (!res.ok) throw new Error(`GET ${origin}/openapi.json answered ${res.status}`);
  watched.set(origin, new ApiContract((await res.json()) as OpenApiDocument));
  globalThis.fetch = checkedFetch;
  return () => watched.delete(origin);
}
