import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { clientFor } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';
import { saveCredentials, type Credentials } from '../settings.ts';
import { UsageError } from '../usage-error.ts';

export interface LoginFlags {
  url?: string;
  key?: string;
  bucket?: string;
}

/**
 * `stw login`: asks for what the flags leave out, checks the key against the API (GET /usage), and
 * only then keeps URL and key in the credentials file.
 */
export async function login(flags: LoginFlags, { settings, output }: Context): Promise<void> {
  const { url, apiKey } =
    flags.url && flags.key ? { url: flags.url, apiKey: flags.key } : await askFor(flags);
  if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url))
    throw new UsageError(`not an http(s) URL: "${url}"`);
  if (!apiKey) throw new UsageError('no API key given');
  const found: Credentials = {
    url: url.replace(/\/+$/, ''),
    apiKey,
    ...(flags.bucket ? { bucket: flags.bucket } : {}),
  };

  const { data } = await clientFor(found, settings).getUsage();
  await saveCredentials(settings.credentialsFile, found);

  output.document({ success: true, url: found.url, credentialsFile: settings.credentialsFile, usage: data });
  output.line(
    `Logged in to ${found.url} (${formatBytes(data.usedQuota)} of ${formatBytes(data.totalQuota)} used).`,
  );
  output.line(`The key is kept in ${settings.credentialsFile}, readable by you alone.`);
}

/** Asks for what the flags leave out. */
async function askFor(flags: LoginFlags): Promise<{ url: string; apiKey: string }> {
  const prompt = prompter();
  try {
    const url = flags.url ?? (await prompt.ask('Stowage URL: '));
    const apiKey = flags.key ?? (await prompt.ask('API key: ', { hidden: true }));
    return { url, apiKey };
  } finally {
    prompt.close();
  }
}

/**
 * Asks for lines, from the person at the terminal or from a pipe (then one line per question); an
 * answer asked for as hidden is not echoed. A question the input ends before answers ''.
 */
function prompter() {
  let muted = false;
  // What readline echoes of the typing goes through here, so a key is not shown as it is typed.
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const input = createInterface({ input: process.stdin, output: echo, terminal: process.stdin.isTTY });
  const lines = input[Symbol.asyncIterator]();
  return {
    async ask(question: string, { hidden = false } = {}): Promise<string> {
      process.stderr.write(question);
      muted = hidden;
      const line = await lines.next();
      muted = false;
      if (hidden || line.done) process.stderr.write('\n');
      return line.done ? '' : String(line.value).trim();
    },
    close: () => input.close(),
  };
}
