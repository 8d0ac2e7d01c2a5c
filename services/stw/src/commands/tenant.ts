import { connect } from '../connection.ts';
import type { Context } from '../context.ts';
import { formatBytes } from '../format.ts';

/** `stw tenant`: the key's tenant, its quota, rate limits, origins and declared buckets. */
export async function tenant({ settings, output }: Context): Promise<void> {
  const { client } = await connect(settings);
  const result = await client.getTenant();
  const { tenantId, displayName, quota, rateLimits, allowedOrigins, buckets, storage } = result.tenant;
  output.document(result);
  output.line(`${displayName} (${tenantId}), ${storage} storage`);
  output.line(`quota ${formatBytes(quota.storage)}, files up to ${formatBytes(quota.maxFileSize)}`);
  const limits = Object.entries(rateLimits).map(([route, perMinute]) => `${route} ${perMinute}`);
  output.line(`requests per minute: ${limits.join(', ')}`);
  output.line(`origins: ${allowedOrigins.join(' ') || 'any'}`);
  for (const b of buckets) {
    output.line(
      `bucket ${b.name}  ${b.public ? 'public' : 'private'}  ${b.allowedTypes.join(' ') || 'any type'}`,
    );
  }
}
