import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorStatus } from '@stowage/core';
import { stackBackends, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { PNG_1X1, upload } from '../support/http.ts';
import { runTool } from '../support/tools.ts';

/** What schemathesis holds every response to: no 5xx, and nothing the document does not say. */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  // Input the document rules out must be refused, never taken (see REFUSALS).
  'negative_data_rejection',
];
/**
 * How invalid input may be refused: with one of the API's own client errors. (schemathesis's default
 * list also takes 5xx, which not_a_server_error reports, and statuses this API never sends.)
 */
const REFUSALS = [...new Set(Object.values(errorStatus).filter((status) => status < 500))];
/** Cases per operation and phase, and a deadline for the whole run (a few minutes per backend). */
const MAX_EXAMPLES = 30;
const DEADLINE_MS = 180_000;

interface RunReport {
  test_cases: { generated: number };
  operations: { tested: number };
}

for (const backend of stackBackends) {
  describe(`schemathesis against /openapi.json on ${backend.name}`, () => {
    let stack: ApiStack;
    let tenant: TestTenant;
    let workDir: string;
    before(async () => {
      stack = await backend.create();
      // Limits out of the way, so the fuzzer reaches the routes rather than 429s.
      const plenty = 1_000_000;
      tenant = await stack.createTenant({
        rateLimits: { upload: plenty, list: plenty, delete: plenty, usage: plenty },
      });
      // Files in the bucket the document gives as its example, so listings and reads have data.
      for (const [content, filename] of [
        ['hello', 'hello.txt'],
        [PNG_1X1, 'pixel.png'],
        ['{"a":1}', 'data.json'],
      ] as const) {
        assert.equal(
          (await upload(stack.url, 'avatars', content, { key: tenant.key, filename })).status,
          201,
        );
      }
      workDir = await mkdtemp(join(tmpdir(), 'stowage-fuzz-'));
    });
    after(async () => {
      await stack.close();
      await rm(workDir, { recursive: true, force: true });
    });

    it('finds no server error and no response that breaks the document', async (t) => {
      const report = join(workDir, 'report.json');
      const config = join(workDir, 'schemathesis.toml');
      await writeFile(
        config,
        `[checks.negative_data_rejection]\nexpected-statuses = ${JSON.stringify(REFUSALS)}\n`,
      );
      const result = await runTool(
        'st',
        [
          '--config-file',
          config,
          'run',
          `${stack.url}/openapi.json`,
          '--url',
          stack.url,
          '--header',
          `x-api-key: ${tenant.key}`,
          '--checks',
          CHECKS.join(','),
          '--mode',
          'all',
          '--max-examples',
          String(MAX_EXAMPLES),
          '--seed',
          '20261201',
          '--generation-database',
          'none',
          '--request-timeout',
          '10',
          '--no-color',
          '--report',
          'json',
          '--report-json-path',
          report,
        ],
        {},
        // schemathesis keeps a cache of past failures in its working directory: a fresh one per run.
        { cwd: workDir, timeoutMs: DEADLINE_MS },
      );
      const { test_cases, operations } = JSON.parse(await readFile(report, 'utf8')) as RunReport;
      t.diagnostic(`schemathesis sent ${test_cases.generated} requests to ${operations.tested} operations`);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.ok(operations.tested > 0, 'schemathesis tested no operation');
    });
  });
}
