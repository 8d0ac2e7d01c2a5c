import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';

/** `stw usage`: the tenant's quota and what it stores. */
export async function usage({ settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.getUsage();
  const { usedQuota, totalQuota, remainingQuota, percentUsed, fileCount, mode } = result.data;
  output.document(result);
  // A test key sees its sandbox: its own quota and files, apart from the live ones.
  const sandbox = mode === 'test' ? ' in test mode' : '';
  output.line(
    `${formatBytes(usedQuota)} of ${formatBytes(totalQuota)} used${sandbox} (${percentUsed}%), ${fileCount} files`,
  );
  output.line(`${formatBytes(remainingQuota)} free`);
}
