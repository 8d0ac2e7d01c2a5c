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
