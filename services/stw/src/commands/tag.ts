import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { parseTarget } from '../format.ts';
import { UsageError } from '../usage-error.ts';

/** `stw tag <bucket/key> <tags…>`: the file's tags become these (`--clear`: none). */
export async function tag(
  target: string,
  tags: string[],
  flags: { clear?: boolean },
  { settings, output }: Context,
): Promise<void> {
  if (flags.clear ? tags.length > 0 : tags.length === 0) {
    throw new UsageError('give the tags, or --clear to remove them all');
  }
  const { bucket, key } = parseTarget(target);
  const { client } = await connect(settings);
  const result = await client.updateFile(key, { tags }, bucket);
  output.document(result);
  output.line(`${bucket}/${key}  ${result.file.tags.join(' ') || '(no tags)'}`);
}
