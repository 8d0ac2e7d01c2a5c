/**
 * A client's file name as metadata: its last path segment, no control characters, at most 255
 * characters (code points, so a character outside the BMP is never cut in half).
 */
export function cleanFilename(name: string | undefined): string {
  const base = (name ?? '')
    .split(/[/\\]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return Array.from(base).slice(0, 255).join('') || 'file';
}
