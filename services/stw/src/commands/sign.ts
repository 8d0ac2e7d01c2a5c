import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { parseTarget } from '../format.ts';

/** `stw sign <bucket/key>`: a URL that serves the file to whoever holds it, until it expires. */
export async function sign(
  target: string,
  expiresIn: number | undefined,
  { settings, output }: Context,
): Promise<void> {
  const { bucket, key } = parseTarget(target);
  const { client } = await connect(settings);
  const result = await client.signedUrl(key, { bucket, ...(expiresIn ? { expiresIn } : {}) });
  output.document(result);
  output.line(result.url);
}
