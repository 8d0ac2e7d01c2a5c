import { fileTypeFromBuffer } from 'file-type';

/** How many leading bytes are enough to recognise a type. */
export const SNIFF_BYTES = 4100;

export interface SniffedType {
  mimetype: string;
  ext: string;
}

const TEXT_TYPES: { pattern: RegExp; type: SniffedType }[] = [
  {
    pattern: /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/i,
    type: { mimetype: 'image/svg+xml', ext: 'svg' },
  },
  {
    pattern: /^\s*(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<script[\s>])/i,
    type: { mimetype: 'text/html', ext: 'html' },
  },
  { pattern: /^\s*<\?xml\s/i, type: { mimetype: 'application/xml', ext: 'xml' } },
];

function isText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    // A multi-byte character may be cut at the end of the sample; ignore its last few bytes.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, Math.max(0, head.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/**
 * The type of a file from its first bytes, never from what the client claims: magic numbers first, then
 * markup that browsers would run (SVG, HTML, XML) so it can be served safely, then plain text.
 */
export async function sniffType(head: Buffer): Promise<SniffedType> {
  const detected = await fileTypeFromBuffer(head);
  if (detected) return { mimetype: detected.mime, ext: detected.ext };
  if (isText(head)) {
    const text = head.toString('utf8');
    return (
      TEXT_TYPES.find(({ pattern }) => pattern.test(text))?.type ?? { mimetype: 'text/plain', ext: 'txt' }
    );
  }
  return { mimetype: 'application/octet-stream', ext: 'bin' };
}

/** Raster images the worker makes WebP variants of. */
export function hasVariants(mimetype: string): boolean {
  return /^image\/(jpeg|png|gif|webp|avif|tiff|heic|heif)$/.test(mimetype);
}

/** Whether `mimetype` matches one of a bucket's allowed patterns (`image/*`, `application/pdf`); none = any. */
export function typeAllowed(mimetype: string, allowed: string[]): boolean {
  return (
    allowed.length === 0 ||
    allowed.some((p) => (p.endsWith('/*') ? mimetype.startsWith(p.slice(0, -1)) : p === mimetype))
  );
}
