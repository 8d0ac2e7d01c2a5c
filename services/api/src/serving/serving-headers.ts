/** Types a browser would execute or render as a document: served as downloads, never inline. */
const ACTIVE_TYPES = new Set([
  'image/svg+xml',
  'text/html',
  'application/xhtml+xml',
  'application/xml',
  'text/xml',
  'text/javascript',
  'application/javascript',
  'application/ecmascript',
  'text/ecmascript',
]);

/** Whether browsers would execute or render a type as a document; such files only come from the API. */
export function isActive(mimetype: string): boolean {
  return ACTIVE_TYPES.has(mimetype);
}

export interface ServedFile {
  filename: string;
  mimetype: string;
  etag: string;
  lastModified: Date;
  isPublic: boolean;
}

/**
 * Headers for serving untrusted content. Files are immutable (each upload gets a new key), so public
 * files may be cached forever; protected ones only privately and revalidated. nosniff and a sandboxing
 * CSP always; active types become attachments so they never run in our origin.
 */
export function servingHeaders(file: ServedFile): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': file.mimetype.startsWith('text/') ? `${file.mimetype}; charset=utf-8` : file.mimetype,
    etag: file.etag,
    'last-modified': file.lastModified.toUTCString(),
    'cache-control': file.isPublic ? 'public, max-age=31536000, immutable' : 'private, no-cache',
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    'cross-origin-resource-policy': 'cross-origin',
  };
  if (isActive(file.mimetype)) headers['content-disposition'] = `attachment; filename="${file.filename}"`;
  return headers;
}
