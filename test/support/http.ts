/** A tiny valid PNG (1x1), recognised by its magic number. */
export const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

export interface UploadOptions {
  key?: string;
  filename?: string;
  field?: string;
  fields?: Record<string, string>;
  type?: string;
}

/** A multipart/form-data upload the way curl -F sends it. */
export function uploadForm(content: Buffer | string, options: UploadOptions = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(options.fields ?? {})) form.append(name, value);
  form.append(
    options.field ?? 'file',
    new Blob([content], { type: options.type ?? 'application/octet-stream' }),
    options.filename ?? 'file.bin',
  );
  return form;
}

export async function upload(
  base: string,
  bucket: string,
  content: Buffer | string,
  options: UploadOptions = {},
) {
  const res = await fetch(`${base}/upload/${bucket}`, {
    method: 'POST',
    headers: options.key ? { 'x-api-key': options.key } : {},
    body: uploadForm(content, options),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

/** A JSON request; resolves to status, headers and the parsed body (or the text, if not JSON). */
export async function call(
  base: string,
  path: string,
  init: RequestInit & { key?: string; json?: unknown } = {},
) {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('x-api-key', init.key);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body };
}
