/**
 * Loaded into stw by the tests (`node --import`), before stw itself: wraps the global `fetch`, which
 * the SDK sends every request with, to note each request stw sends (`METHOD URL`, a line each, in
 * STW_TEST_REQUEST_LOG). With STW_TEST_HOLD_PARTS_AFTER=n, part uploads after the n-th are held back
 * (never sent; failed only by their signal), so a test can stop stw at a known point mid-upload.
 */
import { appendFileSync } from 'node:fs';

const log = process.env.STW_TEST_REQUEST_LOG!;
const holdAfter = process.env.STW_TEST_HOLD_PARTS_AFTER;
const send = globalThis.fetch;
let partsSent = 0;

const isPartUpload = (method: string, url: URL) => method === 'PUT' && url.searchParams.has('partNumber');

globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (isPartUpload(method, url) && holdAfter !== undefined && partsSent >= Number(holdAfter)) {
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    // A request under way keeps a process alive; a promise alone does not.
    const alive = setInterval(() => {}, 60_000);
    return new Promise((_, reject) =>
      signal?.addEventListener('abort', () => {
        clearInterval(alive);
        reject(signal.reason as Error);
      }),
    );
  }
  if (isPartUpload(method, url)) partsSent++;
  appendFileSync(log, `${method} ${url.href}\n`);
  return send(input, init);
};
