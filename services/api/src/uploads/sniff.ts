import { fileTypeFromBuffer } from 'file-type';

/** How many leading bytes are enough to recognise a type. */
export const SNIFF_BYTES = 4100;

export interface SniffedType {
  mimetype: string;
  ext: string;
}

const SVG: SniffedType = { mimetype: 'image/svg+xml', ext: 'svg' };
const HTML: SniffedType = { mimetype: 'text/html', ext: 'html' };
const XML: SniffedType = { mimetype: 'application/xml', ext: 'xml' };
const TEXT: SniffedType = { mimetype: 'text/plain', ext: 'txt' };
const JAVASCRIPT: SniffedType = { mimetype: 'text/javascript', ext: 'js' };

/**
 * Active types that text can be without showing it in its first bytes: scripts have no signature at all,
 * and browsers render an HTML fragment, or an SVG or XML document without a declaration, by its type.
 */
const ACTIVE_BY_EXTENSION = new Map<string, SniffedType>([
  ['js', JAVASCRIPT],
  ['mjs', JAVASCRIPT],
  ['cjs', JAVASCRIPT],
  ['html', HTML],
  ['htm', HTML],
  ['xhtml', { mimetype: 'application/xhtml+xml', ext: 'xhtml' }],
  ['svg', SVG],
  ['xml', XML],
]);

/** Plain text the client named as an active type is taken as that type, which only makes serving stricter. */
function namedText(clientName: string): SniffedType {
  const extension = /\.([^.]+)$/.exec(clientName)?.[1] ?? '';
  return ACTIVE_BY_EXTENSION.get(extension.toLowerCase()) ?? TEXT;
}

/**
 * Markup a browser would render: what the first element is, after any XML declaration, processing
 * instructions, comments and doctype. A linear scan: a regular expression with nested repetition here
 * could be made to backtrack for minutes by a crafted upload.
 */
function sniffMarkup(text: string): SniffedType {
  let rest = text.trimStart();
  const isXml = /^<\?xml\s/i.test(rest);
  let doctype = '';
  for (;;) {
    const close = rest.startsWith('<?')
      ? '?>'
      : rest.startsWith('<!--')
        ? '-->'
        : rest.startsWith('<!')
          ? '>'
          : undefined;
    if (!close) break;
    const end = rest.indexOf(close, 2);
    if (end === -1) break;
    if (rest.startsWith('<!') && !rest.startsWith('<!--')) doctype = rest.slice(2, end).trim().toLowerCase();
    rest = rest.slice(end + close.length).trimStart();
  }
  if (/^<svg[\s>]/i.test(rest) || doctype.startsWith('doctype svg')) return SVG;
  if (doctype.startsWith('doctype html') || /^<(html|head|body|script)[\s>]/i.test(rest)) return HTML;
  return isXml ? XML : TEXT;
}

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
 * markup that browsers would run (SVG, HTML, XML) so it can be served safely, then plain text. The
 * client's file name counts only for text named as an active type (`app.js`), which is then served as one.
 */
export async function sniffType(head: Buffer, clientName: string): Promise<SniffedType> {
  const detected = await fileTypeFromBuffer(head);
  // Magic numbers cannot tell an SVG from other XML: markup is refined below.
  if (detected && !/^(application|text)\/xml$/.test(detected.mime))
    return { mimetype: detected.mime, ext: detected.ext };
  if (isText(head)) {
    const markup = sniffMarkup(head.toString('utf8'));
    return markup === TEXT ? namedText(clientName) : markup;
  }
  return { mimetype: 'application/octet-stream', ext: 'bin' };
}

/** Images the worker makes WebP variants of: raster formats, and SVG only if rasterising it is enabled. */
export function hasVariants(mimetype: string, rasteriseSvg: boolean): boolean {
  return (
    /^image\/(jpeg|png|gif|webp|avif|tiff|heic|heif)$/.test(mimetype) ||
    (rasteriseSvg && mimetype === 'image/svg+xml')
  );
}

/** Whether `mimetype` matches one of a bucket's allowed patterns (`image/*`, `application/pdf`); none = any. */
export function typeAllowed(mimetype: string, allowed: string[]): boolean {
  return (
    allowed.length === 0 ||
    allowed.some((p) => (p.endsWith('/*') ? mimetype.startsWith(p.slice(0, -1)) : p === mimetype))
  );
}
