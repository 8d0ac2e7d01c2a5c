import { VARIANT_NAMES, variantFilename, type FileRecord } from '@stowage/core';

/** The public URL of a file (or of one of its variants). */
export function fileUrl(
  publicUrl: string,
  file: Pick<FileRecord, 'tenantId' | 'bucket'>,
  filename: string,
): string {
  return `${publicUrl}/${encodeURIComponent(file.tenantId)}/${encodeURIComponent(file.bucket)}/${encodeURIComponent(filename)}`;
}

/** The variants of an image file as the API shows them: each URL with its status. */
export function variantsView(publicUrl: string, file: FileRecord) {
  const status = file.variantStatus;
  if (status === 'none') return undefined;
  return Object.fromEntries(
    VARIANT_NAMES.map((name) => [
      name,
      {
        url: fileUrl(publicUrl, file, variantFilename(file.id, name)),
        // The worker lists the variants it made; the others are as pending or failed as the file.
        status: file.variants[name] ? ('ready' as const) : status,
      },
    ]),
  );
}

/** One file as listed by GET /files/:bucket (the seed's fields). */
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
    },
    variants: variantsView(publicUrl, file),
  };
}
