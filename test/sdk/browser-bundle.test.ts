import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
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

const tsc = (...args: string[]) =>
  promisify(execFile)(process.execPath, [
    createRequire(import.meta.url).resolve('typescript/bin/tsc'),
    ...args,
  ]);

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

  it("declares its types with a browser's alone: an app without Node's types compiles against them", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-sdk-types-'));
    try {
      const declarations = ['--emitDeclarationOnly', '--composite', 'false', '--incremental', 'false'];
      await tsc('-p', 'services/sdk/tsconfig.json', ...declarations, '--outDir', dir);
      await writeFile(
        join(dir, 'app.ts'),
        `import { Stowage, StowageError } from './index.js';
        const storage = new Stowage({ baseUrl: 'https://files.example.com', apiKey: 'key', bucket: 'b' });
        export async function thumb(file: File, signal: AbortSignal): Promise<string> {
          const result = await storage.uploadFile(file, { signal, onProgress: (p) => p.loaded });
          return storage.variantUrls(result).thumb;
        }
        export const code = (e: unknown) => (e instanceof StowageError ? e.code : undefined);`,
      );
      const compilerOptions = {
        ...{ strict: true, noEmit: true, module: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'] },
        ...{ types: [], skipLibCheck: false },
      };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }));
      await tsc('-p', dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
