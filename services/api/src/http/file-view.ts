import { VARIANT_NAMES, variantFilename, type FileRecord, type VariantName } from '@stowage/core';

/** The public URL of a file (or of one of its variants). */
export function fileUrl(
  publicUrl: string,
  file: Pick<FileRecord, 'tenantId' | 'bucket'>,
  filename: string,
): string {
  return `${publicUrl}/${encodeURIComponent(file.tenantId)}/${encodeURIComponent(file.bucket)}/${encodeURIComponent(filename)}`;
}

interface VariantView {
  url: string;
  status: 'pending' | 'ready' | 'failed';
}

/** The variants of an image file as the API shows them: each URL with its status. */
export function variantsView(publicUrl: string, file: FileRecord): Record<string, VariantView> | undefined {
  const overall = file.variantStatus;
  if (overall === 'none') return undefined;
  const view = (name: VariantName): VariantView => ({
    url: fileUrl(publicUrl, file, variantFilename(file.id, name)),
    // The worker records each variant it made as ready; the others share the file's status.
    status: file.variants[name]?.status === 'ready' ? 'ready' : overall,
  });
  return Object.fromEntries(VARIANT_NAMES.map((name) => [name, view(name)]));
}

/** One file as listed by GET /files/:bucket (the seed's fields, plus tags, metadata, updatedAt, mode and
 * expiresAt). */
export function fileView(publicUrl: string, file: FileRecord) {
  return {
    id: file.id,
    original: file.originalName,
    key: file.key,
    mimetype: file.mimetype,
    size: file.size,
    bucket: file.bucket,
    allowPublicAccess: file.allowPublicAccess,
    createdAt: file.createdAt.toISOString(),
    url: fileUrl(publicUrl, file, file.key),
    tags: file.tags,
    metadata: file.metadata,
    updatedAt: file.updatedAt.toISOString(),
    mode: file.mode,
    expiresAt: file.expiresAt?.toISOString() ?? null,
  };
}

/** One file with its variants' status, as GET and PATCH /files/:bucket/:key answer it. */
export function fileDetailView(publicUrl: string, file: FileRecord) {
  return {
    ...fileView(publicUrl, file),
    variantStatus: file.variantStatus,
    variants: variantsView(publicUrl, file),
  };
}

/** The answer to a successful upload (the seed's fields, plus id, key, bucket and variants). */
export function uploadedView(publicUrl: string, file: FileRecord) {
  return {
    success: true as const,
    message: 'File uploaded successfully',
    url: fileUrl(publicUrl, file, file.key),
    file: {
      id: file.id,
      key: file.key,
      bucket: file.bucket,
      original: file.originalName,
      mimetype: file.mimetype,
      size: file.size,
      allowPublicAccess: file.allowPublicAccess,
      mode: file.mode,
      expiresAt: file.expiresAt?.toISOString() ?? null,
    },
    variants: variantsView(publicUrl, file),
  };
}
