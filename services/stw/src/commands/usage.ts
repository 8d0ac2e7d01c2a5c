import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';

/** `stw usage`: the tenant's quota and what it stores. */
export async function usage({ settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.getUsage();
  const { usedQuota, totalQuota, remainingQuota, percentUsed, fileCount } = result.data;
  output.document(result);
  output.line(
    `${formatBytes(usedQuota)} of ${formatBytes(totalQuota)} used (${percentUsed}%), ${fileCount} files`,
  );
  output.line(`${formatBytes(remainingQuota)} free`);
}
