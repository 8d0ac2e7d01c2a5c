import { BUCKET_NAME, UUID_PATTERN, VARIANT_NAMES, badRequest } from '@stowage/core';

/** A stored file's extension: what the type was read as, or what a direct upload's file name ends in. */
export const EXTENSION_PATTERN = '[a-z0-9]{1,10}';

/** Stored file names: `<uuid>.<ext>`. */
export const FILE_KEY = new RegExp(`^(${UUID_PATTERN})\\.(${EXTENSION_PATTERN})$`);

/** What a serve URL names: a stored file (`<uuid>.<ext>`) or one of its variants (`<uuid>-<variant>.webp`). */
export const SERVED_FILENAME = new RegExp(
  `^(${UUID_PATTERN})(?:\\.(${EXTENSION_PATTERN})|-(${VARIANT_NAMES.join('|')})\\.webp)$`,
);

/** A logical bucket name from a path or body, or 400: no traversal, control characters or overlong names. */
export function bucketName(value: unknown): string {
  if (typeof value !== 'string' || !BUCKET_NAME.test(value)) {
    throw badRequest('Invalid bucket name: use 1-63 lowercase letters, digits, "-" or "_"');
  }
  return value;
}
