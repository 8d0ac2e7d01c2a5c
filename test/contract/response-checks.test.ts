import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiContract, type OpenApiDocument } from '../support/contract.ts';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const requestId = { 'x-request-id': { $ref: '#/components/headers/RequestId' } };

/** A small document in the shape the API's generator writes. */
const document: OpenApiDocument = {
  openapi: '3.1.0',
  paths: {
    '/files/{bucket}': {
      get: {
        operationId: 'listFiles',
        responses: {
          200: {
            headers: requestId,
            content: json({
              type: 'object',
              properties: { files: { type: 'array', items: { $ref: '#/components/schemas/File' } } },
              required: ['files'],
              additionalProperties: false,
            }),
          },
          default: { $ref: '#/components/responses/Error' },
        },
      },
    },
    '/files/delete': { post: { responses: { 200: { headers: requestId } } } },
    '/{tenantId}/{bucket}/{filename}': {
      get: { responses: { 200: { headers: requestId, content: { '*/*': { schema: {} } } } } },
    },
  },
  components: {
    schemas: {
      File: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' } },
        required: ['id'],
        example: { id: '0f070692-8186-4b8d-86b9-e55d3e99f0b8' },
      },
    },
    headers: { RequestId: { required: true, schema: { type: 'string' } } },
    responses: {
      Error: {
        headers: requestId,
        content: json({
          type: 'object',
          properties: { success: { const: false }, code: { type: 'string' } },
          required: ['success', 'code'],
        }),
      },
    },
  },
};

const contract = new ApiContract(document);

function response(status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType: Record<string, string> =
    typeof body === 'string' ? {} : { 'content-type': 'application/json; charset=utf-8' };
  return {
    status,
    headers: new Headers({ 'x-request-id': 'r1', ...contentType, ...headers }),
    body: async () => text,
  };
}

const ok = { files: [{ id: '0f070692-8186-4b8d-86b9-e55d3e99f0b8' }] };
const notFound = { success: false, code: 'FILE_NOT_FOUND' };

describe('checking a response against the document', () => {
  it('finds operations by method and path template, literal segments first', () => {
    assert.equal(contract.find('GET', '/files/docs')?.template, '/files/{bucket}');
    assert.equal(contract.find('GET', '/files/docs/')?.template, '/files/{bucket}');
    assert.equal(contract.find('POST', '/files/delete')?.template, '/files/delete');
    assert.equal(contract.find('GET', '/acme/docs/a.txt')?.template, '/{tenantId}/{bucket}/{filename}');
    assert.equal(contract.find('DELETE', '/files/docs'), undefined);
    assert.equal(contract.find('GET', '/files'), undefined);
    assert.equal(contract.find('GET', '/files//'), undefined);
  });

  it('passes responses that keep to it, by status or default', async () => {
    assert.deepEqual(await contract.problems('GET', '/files/docs', response(200, ok)), []);
    assert.deepEqual(await contract.problems('GET', '/files/docs', response(404, notFound)), []);
    assert.deepEqual(await contract.problems('HEAD', '/files/docs', response(200, '')), [
      'the document has no operation HEAD /files/docs',
    ]);
    const served = response(200, 'bytes', { 'content-type': 'image/png' });
    assert.deepEqual(await contract.problems('GET', '/acme/docs/a.png', served), []);
    assert.deepEqual(await contract.problems('POST', '/files/delete', response(200, '')), []);
  });

  it('reports a body that breaks its schema, referenced schemas and formats included', async () => {
    const [extra] = await contract.problems('GET', '/files/docs', response(200, { ...ok, more: 1 }));
    assert.match(extra!, /body must NOT have additional properties/);
    const [badId] = await contract.problems('GET', '/files/docs', response(200, { files: [{ id: 'x' }] }));
    assert.match(badId!, /body\/files\/0\/id must match format "uuid"/);
    const [badError] = await contract.problems('GET', '/files/docs', response(500, { success: true }));
    assert.match(badError!, /body\/success must be equal to constant/);
    const [notJson] = await contract.problems('GET', '/files/docs', {
      ...response(200, ok),
      body: async () => '{"files": [',
    });
    assert.match(notJson!, /not JSON/);
  });

  it('reports undocumented content types, missing bodies and missing required headers', async () => {
    const html = response(200, '<p>hi</p>', { 'content-type': 'text/html' });
    assert.deepEqual(await contract.problems('GET', '/files/docs', html), [
      'Content-Type text/html is not documented (application/json)',
    ]);
    assert.deepEqual(await contract.problems('POST', '/files/delete', response(200, { a: 1 })), [
      'Content-Type application/json is not documented (no body)',
    ]);
    assert.deepEqual(await contract.problems('GET', '/files/docs', response(200, '')), [
      'no body, where the document says application/json',
    ]);
    assert.deepEqual(await contract.problems('POST', '/files/delete', response(200, 'text')), [
      'a body without a Content-Type',
    ]);
    const anonymous = response(200, ok);
    anonymous.headers.delete('x-request-id');
    assert.deepEqual(await contract.problems('GET', '/files/docs', anonymous), [
      'required header x-request-id is missing',
    ]);
  });

  it('reports undocumented statuses and operations; unknown routes may only answer 404', async () => {
    assert.deepEqual(await contract.problems('POST', '/files/delete', response(400, notFound)), [
      'status 400 is not documented for POST /files/delete',
    ]);
    assert.deepEqual(await contract.problems('GET', '/nope', response(404, notFound)), []);
    assert.deepEqual(await contract.problems('DELETE', '/files/docs', response(404, notFound)), []);
    const [wrongShape] = await contract.problems('GET', '/nope', response(404, { success: 'no' }));
    assert.match(wrongShape!, /body\/success must be equal to constant/);
    assert.deepEqual(await contract.problems('POST', '/upload/docs', response(201, { success: true })), [
      'the document has no operation POST /upload/docs',
    ]);
  });
});
