import { fileNotFound, serviceUnavailable, type FileRecord } from '@stowage/core';
import type { ServeTarget } from './serve-target.ts';

/** The stored object a serve URL names, with what its headers say about it. */
export interface ResolvedObject {
  /** The object's name within the file's logical bucket. */
  key: string;
  size: number;
  mimetype: string;
  etag: string;
  lastModified: Date;
}

/** How long a client should wait before asking again for a variant still being made. */
const VARIANT_RETRY_SECONDS = 2;

/** Which object to send for a target: 404 for anything missing, 503 for a variant still pending. */
export function resolveObject(file: FileRecord, target: ServeTarget): ResolvedObject {
  if (!target.variant) {
    if (target.filename !== file.key) throw fileNotFound();
    return {
      key: file.key,
      size: file.size,
      mimetype: file.mimetype,
      etag: file.etag,
      lastModified: file.createdAt,
    };
  }
  const variant = file.variants[target.variant];
  if (variant?.status === 'ready' && variant.size !== undefined) {
    return {
      key: target.filename,
      size: variant.size,
      mimetype: 'image/webp',
      etag: `"${file.id}-${target.variant}"`,
      lastModified: file.createdAt,
    };
  }
  if (file.variantStatus === 'pending') {
    throw serviceUnavailable('The variant is still being generated', VARIANT_RETRY_SECONDS);
  }
  throw fileNotFound();
}
