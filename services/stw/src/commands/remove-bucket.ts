import { connect } from '../connection.ts';
import type { Context } from '../context.ts';

/** `stw rm-bucket <bucket>`: every file of the bucket, and the bucket (needs an `admin` key). */
export async function removeBucket(bucket: string, { settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.removeBucket(bucket);
  output.document(result);
  output.line(`removed bucket ${bucket} (${result.filesDeleted} files)`);
}
