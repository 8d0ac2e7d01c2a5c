import { BUCKET_NAME, TENANT_ID, UUID_PATTERN, VARIANT_NAMES, type VariantName } from '@stowage/core';

/** What a serve URL names: a tenant's file, or one of its image variants. */
export interface ServeTarget {
  tenantId: string;
  bucket: string;
  /** As requested: an original's must then be its stored key exactly. */
  filename: string;
  fileId: string;
  variant: VariantName | undefined;
}

/**
 * `<uuid>.<ext>` for an original, `<uuid>-<variant>.webp` for a variant. Whatever follows an original's
 * UUID is compared with its stored key, so only the UUID and the variant are read here.
 */
const SERVED_FILENAME = new RegExp(`^(${UUID_PATTERN})(?:-(${VARIANT_NAMES.join('|')})\\.webp|\\..+)$`);

/** The file a serve URL's path names, or undefined when it cannot name one. */
export function parseServeTarget(path: {
  tenantId: string;
  bucket: string;
  filename: string;
}): ServeTarget | undefined {
  const { tenantId, bucket, filename } = path;
  if (!TENANT_ID.test(tenantId) || !BUCKET_NAME.test(bucket)) return undefined;
  const match = SERVED_FILENAME.exec(filename);
  if (!match) return undefined;
  return { tenantId, bucket, filename, fileId: match[1]!, variant: match[2] as VariantName | undefined };
}
