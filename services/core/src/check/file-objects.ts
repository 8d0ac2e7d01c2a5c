import { objectKeyOf, variantFilename, VARIANT_NAMES, type VariantName } from '../files/object-keys.ts';
import { compareKeys } from '../object-store/object-store.ts';
import type { ScannedFile } from './check-store.ts';

/** An object a file row accounts for. */
export interface FileObject {
  key: string;
  /** undefined: the original. */
  variant: VariantName | undefined;
  /** Must exist: the original, and each variant the row says is ready. */
  required: boolean;
  /** The size the row records (and counts in usage), when it records one. */
  size: number | undefined;
}

/**
 * The objects a file row accounts for, in `compareKeys` order: its original, the variants it records as
 * ready and, while its variants are pending, the ones a worker may be writing. Any other variant object
 * is nobody's: a worker that failed or was overtaken left it, and no usage counts it.
 */
export function fileObjects(file: ScannedFile): FileObject[] {
  const variants = VARIANT_NAMES.flatMap((variant): FileObject[] => {
    const recorded = file.variants[variant];
    const ready = file.variantStatus === 'ready' && recorded?.status === 'ready';
    if (!ready && file.variantStatus !== 'pending') return [];
    const key = objectKeyOf(file.bucket, variantFilename(file.id, variant));
    return [{ key, variant, required: ready, size: ready ? recorded.size : undefined }];
  });
  const original = {
    key: objectKeyOf(file.bucket, file.key),
    variant: undefined,
    required: true,
    size: file.size,
  };
  return [original, ...variants].sort((a, b) => compareKeys(a.key, b.key));
}
