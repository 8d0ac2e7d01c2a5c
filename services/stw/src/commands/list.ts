import type { FileInfo, ListOptions } from '@stowage/sdk/node';
import { bucketOf, connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';

export type ListFlags = Pick<ListOptions, 'tag' | 'search' | 'type' | 'order'> & { pageSize: number };

/** `stw ls [bucket]`: every file of the bucket that matches the filters, page after page. */
export async function list(
  named: string | undefined,
  { pageSize, ...filters }: ListFlags,
  { settings, output }: Context,
): Promise<void> {
  const { client, credentials } = await connect(settings);
  const bucket = bucketOf(named, credentials);
  const files: FileInfo[] = [];
  for await (const file of client.files(bucket, { limit: pageSize, ...filters })) {
    if (output.json) files.push(file);
    else output.line(row(file));
  }
  output.document({ success: true, bucket, files });
}

const row = (file: FileInfo) =>
  [
    file.key,
    formatBytes(file.size).padStart(10),
    file.createdAt,
    file.mimetype.padEnd(24),
    file.original,
    ...(file.expiresAt ? [`(expires ${file.expiresAt})`] : []),
  ].join('  ');
