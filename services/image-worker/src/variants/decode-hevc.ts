import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** libheif (with the libde265 HEVC decoder) compiled to WebAssembly. */
const decoder = createRequire(import.meta.url).resolve('heic-decode');

const DECODE = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.decoder)({ buffer: workerData.input }).then(
  ({ width, height, data }) => parentPort.postMessage({ width, height, data }, [data.buffer]),
  (err) => parentPort.postMessage({ error: String((err && err.message) || err) }),
);
`;

/** The thread itself failed (it could not start, ran out of memory, or exited): worth a retry. */
export class ThreadFailure extends Error {
  override name = 'ThreadFailure';
}

/**
 * Runs `script` (CommonJS, reading `workerData`) in a thread of its own and resolves to the first message
 * it posts. A thread still running after `timeoutSeconds` is stopped, and so is every thread once it has
 * answered. Whatever it prints is dropped.
 */
export function runInThread<T>(script: string, workerData: unknown, timeoutSeconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(script, { eval: true, workerData, execArgv: [], stdout: true, stderr: true });
    thread.stdout.resume();
    thread.stderr.resume();
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      thread.removeAllListeners().on('error', () => {}); // stopping: nothing more to hear
      void thread.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`took longer than ${timeoutSeconds} s`))),
      timeoutSeconds * 1000,
    );
    thread.on('message', (message: T) => settle(() => resolve(message)));
    thread.on('error', (err) => settle(() => reject(new ThreadFailure(err.message))));
    thread.on('exit', (code) => settle(() => reject(new ThreadFailure(`the thread exited (${code})`))));
  });
}

interface DecodedPixels {
  /** RGBA, 8 bits per channel, row by row. */
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes HEVC-coded HEIF (the HEIC photos of phones), which sharp's libvips is built without, to RGBA
 * pixels, with the image's rotation and mirroring applied. The WebAssembly decoder runs synchronously,
 * so it runs in a thread of its own: the worker keeps renewing its job locks meanwhile, and a decode
 * that takes longer than `timeoutSeconds` is stopped.
 */
export async function decodeHevc(input: Buffer, timeoutSeconds: number): Promise<DecodedPixels> {
  const decoded = await runInThread<{ error: string } | { width: number; height: number; data: Uint8Array }>(
    DECODE,
    { decoder, input },
    timeoutSeconds,
  );
  if ('error' in decoded) throw new Error(decoded.error);
  const { width, height, data } = decoded;
  return { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
}
