import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const STALE = 'stale: run `make sdk-types` and commit what it writes';

/** The document scripts/openapi.ts prints from the route contracts now. */
async function currentDocument(): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'scripts/openapi.ts'],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

describe("the SDK's copy of the API contract", () => {
  it('services/sdk/openapi.json and src/generated/api.ts are what make sdk-types writes now', async () => {
    const document = await currentDocument();
    assert.equal(document, await readFile('services/sdk/openapi.json', 'utf8'), `openapi.json is ${STALE}`);
    // As the openapi-typescript command line writes it.
    const types = COMMENT_HEADER + astToString(await openapiTS(JSON.parse(document)));
    assert.equal(types, await readFile('services/sdk/src/generated/api.ts', 'utf8'), `api.ts is ${STALE}`);
  });
});
