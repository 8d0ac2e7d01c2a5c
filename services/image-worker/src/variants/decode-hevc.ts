import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** libheif (with the libde265 HEVC decoder) compiled to WebAssembly. */
const decoder = createRequire(import.meta.url).resolve('heic-decode');

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.decoder)({ buffer: workerData.input }).then(
  ({ width, height, data }) => parentPort.postMessage({ width, height, data }, [data.buffer]),
  (err) => parentPort.postMessage({ error: String((err && err.message) || err) }),
);
`;

export interface DecodedPixels {
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
export function decodeHevc(input: Buffer, timeoutSeconds: number): Promise<DecodedPixels> {
  return new Promise((resolve, reject) => {
    // The decoder prints its complaints to the console; the error returned says enough.
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: { decoder, input },
      stdout: true,
      stderr: true,
    });
    thread.stdout.resume();
    thread.stderr.resume();
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      thread.removeAllListeners().on('error', () => {}); // terminating: nothing more to hear
      void thread.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`decoding HEIC took longer than ${timeoutSeconds} s`))),
      timeoutSeconds * 1000,
    );
    thread.on('message', (m: { error: string } | { width: number; height: number; data: Uint8Array }) =>
      settle(() =>
        'error' in m
          ? reject(new Error(m.error))
          : resolve({
              width: m.width,
              height: m.height,
              data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
            }),
      ),
    );
    thread.on('error', (err) => settle(() => reject(err)));
    thread.on('exit', (code) => settle(() => reject(new Error(`the HEIC decoder exited (${code})`))));
  });
}
