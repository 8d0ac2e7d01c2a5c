import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import { build } from 'esbuild';
import { embeddedBackend, type ApiStack } from '../support/api-stack.ts';

/** @stowage/sdk bundled for browsers, as an app's bundler would, exposing its exports as `sdk`. */
async function browserBundle() {
  const result = await build({
    stdin: { contents: "export * from '@stowage/sdk';", resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'sdk',
    conditions: ['source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** What a browser page has, and nothing of Node's: no process, Buffer, require or module. */
function browserGlobals() {
  const { fetch, Blob, File, FormData, Headers, Request, Response, URL, URLSearchParams } = globalThis;
  const { ReadableStream, AbortController, AbortSignal, TextEncoder, TextDecoder, DOMException } = globalThis;
  return {
    ...{ fetch, Blob, File, FormData, Headers, Request, Response, URL, URLSearchParams, ReadableStream },
    ...{ AbortController, AbortSignal, TextEncoder, TextDecoder, DOMException, console },
    ...{ setTimeout, clearTimeout, queueMicrotask },
  };
}

describe('@stowage/sdk in a browser', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await embeddedBackend.create();
  });
  after(() => stack.close());

  it('bundles for the browser from its own sources alone, with no Node built-in', async () => {
    const { code, inputs } = await browserBundle();
    const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
    assert.deepEqual(
      inputs.filter((input) => builtins.has(input) || input.startsWith('node:')),
      [],
    );
    assert.deepEqual(
      inputs.filter((input) => !input.startsWith('services/sdk/src/') && input !== '<stdin>'),
      [],
      'no runtime dependency',
    );
    assert.doesNotMatch(code, /\brequire\(|\bprocess\.|\bBuffer\b/);
  });

  it('uploads, lists and removes a file with only what a browser has', async () => {
    const { code } = await browserBundle();
    const page = vm.createContext(browserGlobals());
    vm.runInContext(code, page);
    const tenant = await stack.createTenant();
    const run = vm.runInContext(
      `(async (baseUrl, apiKey) => {
        const storage = new sdk.Stowage({ baseUrl, apiKey, bucket: 'page' });
        const progress = [];
        const uploaded = await storage.uploadFile(new File(['hello from a page'], 'hello.txt'), {
          onProgress: (p) => progress.push(p.loaded),
        });
        const listed = (await storage.listFiles()).files.map((f) => f.original);
        await storage.removeFile(uploaded.file.key);
        const error = await storage.getFile(uploaded.file.key).catch((e) => e);
        return { size: uploaded.file.size, progress, listed, error: [error.name, error.code, error.status] };
      })`,
      page,
    ) as (baseUrl: string, apiKey: string) => Promise<unknown>;
    assert.deepEqual(JSON.parse(JSON.stringify(await run(stack.url, tenant.key))), {
      size: 17,
      progress: [0, 17],
      listed: ['hello.txt'],
      error: ['StowageError', 'FILE_NOT_FOUND', 404],
    });
  });
});
