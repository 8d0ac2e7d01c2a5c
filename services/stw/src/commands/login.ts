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
  const url = flags.url ?? (await ask('Stowage URL: '));
  const apiKey = flags.key ?? (await ask('API key: ', { hidden: true }));
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

/** One line from the person at the terminal (or from a pipe); a hidden answer is not echoed. */
async function ask(question: string, { hidden = false } = {}): Promise<string> {
  let muted = false;
  // What readline echoes goes through here, so a key being typed is not shown.
  const echo = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const prompt = createInterface({ input: process.stdin, output: echo, terminal: process.stdin.isTTY });
  try {
    const answer = prompt.question(question);
    muted = hidden;
    const text = (await answer).trim();
    if (hidden) process.stderr.write('\n');
    return text;
  } finally {
    prompt.close();
  }
}
