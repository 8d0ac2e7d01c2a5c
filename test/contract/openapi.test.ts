import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { embeddedBackend, type ApiStack } from '../support/api-stack.ts';
import { ApiContract, type OpenApiDocument } from '../support/contract.ts';

const README = resolve(import.meta.dirname, '../../README.md');
const METHOD = '(?:GET|HEAD|POST|PUT|PATCH|DELETE)';

interface ReadmeRoute {
  method: string;
  path: string;
  /** Where the README shows it. */
  source: string;
}

/**
 * Every request the README shows: its curl examples against `$STOWAGE` (the method from `-X`, or
 * POST for a body) and the routes it names in code, like `GET /healthz` or `GET|HEAD /:tenantId/…`.
 */
function readmeRoutes(readme: string): ReadmeRoute[] {
  const routes: ReadmeRoute[] = [];
  for (const [, block] of readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const command of block!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const url = /^\s*curl\s.*?"?\$STOWAGE(\/[^\s"]*)/.exec(command)?.[1];
      if (url === undefined) continue;
      const method =
        /\s-X\s*([A-Z]+)/.exec(command)?.[1] ?? (/\s(-d|-F|--data\S*)\s/.test(command) ? 'POST' : 'GET');
      routes.push({ method, path: url.split('?')[0]!, source: command.trim() });
    }
  }
  for (const [source, methods, path] of readme.matchAll(
    new RegExp(`\`(${METHOD}(?:\\|${METHOD})*) (/[^\`\\s]*)\``, 'g'),
  )) {
    for (const method of methods!.split('|')) routes.push({ method, path: path!.split('?')[0]!, source });
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let stack: ApiStack;
  let document: OpenApiDocument;
  let contract: ApiContract;
  before(async () => {
    stack = await embeddedBackend.create();
    const res = await fetch(`${stack.url}/openapi.json`);
    assert.equal(res.status, 200);
    document = (await res.json()) as OpenApiDocument;
    contract = new ApiContract(document);
  });
  after(() => stack.close());

  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    assert.equal(validator.version, '3.1');
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  it('has schemas that compile as strict JSON Schema 2020-12', () => {
    const pointers: string[] = [];
    const walk = (value: unknown, pointer: string) => {
      if (typeof value !== 'object' || value === null) return;
      for (const [key, child] of Object.entries(value)) {
        const here = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        // A schema's own subschemas compile with it.
        if (key === 'schema') pointers.push(here);
        else walk(child, here);
      }
    };
    walk(document.paths, '/paths');
    walk(document.components?.responses, '/components/responses');
    walk(document.components?.headers, '/components/headers');
    for (const name of Object.keys(document.components?.schemas ?? {}))
      pointers.push(`/components/schemas/${name}`);
    assert.ok(pointers.length > 0);
    for (const pointer of pointers) assert.doesNotThrow(() => contract.schemaAt(pointer), pointer);
  });

  it('declares each path parameter and names each operation once', () => {
    const ids = contract.operations.map(({ operation }) => operation.operationId);
    assert.equal(new Set(ids).size, ids.length, `duplicate operationIds: ${ids.join(', ')}`);
    for (const { method, template, operation } of contract.operations) {
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const inPath = [...template.matchAll(/\{(\w+)\}/g)].map(([, name]) => name);
      assert.deepEqual(declared.sort(), inPath.sort(), `${method.toUpperCase()} ${template}`);
    }
  });

  it('documents x-request-id on every response', () => {
    for (const { method, template, operation } of contract.operations) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const header = contract.deref(response).headers?.['x-request-id'];
        assert.ok(header && contract.deref(header).required, `${method.toUpperCase()} ${template} ${status}`);
      }
    }
  });

  it('has every route the README shows', async () => {
    const routes = readmeRoutes(await readFile(README, 'utf8'));
    assert.ok(routes.length > 0, 'found no route in the README');
    const missing = routes.filter(({ method, path }) => !contract.find(method, path));
    assert.deepEqual(
      missing.map(({ method, path, source }) => `${method} ${path} (README: ${source})`),
      [],
      'routes the README shows and the document lacks',
    );
  });
});
