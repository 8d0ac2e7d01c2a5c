import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { parseTarget } from '../format.ts';
import { describeError, errorDocument, EXIT_API_ERROR, EXIT_OK } from '../output.ts';

/** `stw rm <bucket/key…>`: each file with its variants; one that is already gone counts as removed. */
export async function remove(targets: string[], { settings, output }: Context): Promise<number> {
  const files = targets.map(parseTarget);
  const { client } = await connect(settings);
  const results = [];
  for (const { bucket, key } of files) {
    try {
      await client.removeFile(key, bucket);
      output.line(`removed ${bucket}/${key}`);
      results.push({ bucket, key, removed: true });
    } catch (error) {
      output.problem(`stw: ${bucket}/${key}: ${describeError(error)}`);
      results.push({ bucket, key, removed: false, error: errorDocument(error) });
    }
  }
  const failed = results.some((r) => !r.removed);
  output.document({ success: !failed, files: results });
  return failed ? EXIT_API_ERROR : EXIT_OK;
}
