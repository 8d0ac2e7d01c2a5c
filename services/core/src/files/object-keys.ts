/** A lowercase UUID, as file, upload and cursor ids are: a pattern to compose into larger ones. */
export const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID = new RegExp(`^${UUID_PATTERN}$`);
export const isUuid = (value: string): boolean => UUID.test(value);

/** A stored file's extension: what the type was read as, or what a direct upload's file name ends in. */
export const EXTENSION_PATTERN = '[a-z0-9]{1,10}';

/** Variant names and their maximum widths. */
export const VARIANT_WIDTHS = { large: 1920, small: 800, thumb: 300 } as const;
export type VariantName = keyof typeof VARIANT_WIDTHS;
export const VARIANT_NAMES = Object.keys(VARIANT_WIDTHS) as VariantName[];

/** Where a file lives inside its tenant's store bucket: logical buckets are key prefixes. */
export function objectKeyOf(bucket: string, filename: string): string {
  return `${bucket}/${filename}`;
}

/** `<uuid>-large.webp` and so on. */
export function variantFilename(fileId: string, variant: VariantName): string {
  return `${fileId}-${variant}.webp`;
}

/** The objects a file's variants may have in its store bucket. */
export function variantObjectKeys(bucket: string, fileId: string): string[] {
  return VARIANT_NAMES.map((v) => objectKeyOf(bucket, variantFilename(fileId, v)));
}

/** Every object a file may have in its store bucket: the original and each variant. */
export function fileObjectKeys(bucket: string, file: { id: string; key: string }): string[] {
  return [objectKeyOf(bucket, file.key), ...variantObjectKeys(bucket, file.id)];
}
