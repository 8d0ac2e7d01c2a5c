import type { Request } from 'express';
import busboy from 'busboy';
import { badRequest, unsupportedMediaType } from '@stowage/core';
import type { Readable } from 'node:stream';

export interface MultipartFile {
  stream: Readable;
  filename: string;
}

export interface MultipartHandlers {
  /** Called once, for the `file` field; must consume `file.stream`. */
  onFile(file: MultipartFile): Promise<void>;
}

/** The form fields an upload accepts besides the file. */
export interface UploadFields {
  allowPublicAccess?: boolean;
  waitForVariants?: boolean;
}

const BOOLEAN_FIELDS = new Set(['allowPublicAccess', 'waitForVariants']);

/** A boolean form field or query parameter: true/false or 1/0, else 400. */
export function parseBoolean(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw badRequest(`${name} must be true or false`);
}

/** A client's file name as metadata: its last path segment, no control characters, at most 255 characters. */
export function cleanFilename(name: string | undefined): string {
  const base = (name ?? '')
    .split(/[/\\]/)
    .pop()!
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
  return base.slice(0, 255) || 'file';
}

/**
 * Parses a multipart/form-data upload as it streams in: exactly one file, in the field `file`, plus the
 * optional boolean fields. Resolves when the whole form is read and `onFile` has finished; rejects with
 * BAD_REQUEST for malformed forms, a missing, misnamed or second file, and unknown or bad fields.
 */
export function receiveMultipart(
  req: Request,
  handlers: MultipartHandlers,
  signal: AbortSignal,
): Promise<UploadFields> {
  if (!req.is('multipart/form-data')) {
    return Promise.reject(unsupportedMediaType('Uploads must be multipart/form-data with a "file" field'));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 10, fieldSize: 64, fieldNameSize: 64, parts: 12, headerPairs: 20 },
      });
    } catch (err) {
      reject(badRequest('Malformed multipart request', err));
      return;
    }
    const fields: UploadFields = {};
    let problem: Error | undefined;
    let fileWork: Promise<void> | undefined;
    let fileStream: Readable | undefined;
    // Stops reading the form: the file being written (if any) fails, and the rest of the body is drained
    // so the connection can carry the error response.
    const fail = (err: Error) => {
      problem ??= err;
      req.unpipe(parser);
      req.resume();
      fileStream?.destroy(problem);
      settle();
    };

    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || problem) {
        stream.resume();
        if (!problem) fail(badRequest(`Unexpected file field "${name}": send the file as "file"`));
        return;
      }
      fileStream = stream;
      fileWork = handlers.onFile({ stream, filename: cleanFilename(info.filename) });
      fileWork.catch((err: Error) => fail(err));
    });
    parser.on('field', (name, value, info) => {
      if (!BOOLEAN_FIELDS.has(name)) return fail(badRequest(`Unknown field "${name}"`));
      if (info.valueTruncated) return fail(badRequest(`Field "${name}" is too long`));
      try {
        fields[name as keyof UploadFields] = parseBoolean(name, value);
      } catch (err) {
        fail(err as Error);
      }
    });
    parser.on('filesLimit', () => fail(badRequest('Send exactly one file per upload')));
    parser.on('fieldsLimit', () => fail(badRequest('Too many form fields')));
    parser.on('partsLimit', () => fail(badRequest('Too many form parts')));
    parser.on('error', (err: Error) => fail(badRequest(`Malformed multipart body: ${err.message}`, err)));
    parser.on('close', settle);

    let settled = false;
    function settle() {
      if (settled) return;
      settled = true;
      // Wait for the file's work to end either way, so the caller never races a write still running.
      signal.removeEventListener('abort', onAbort);
      void Promise.allSettled([fileWork]).then(() => {
        if (problem) reject(problem);
        else if (!fileWork) reject(badRequest('Missing file: send it in the "file" field'));
        else resolve(fields);
      });
    }
    // A client that goes away may never send the closing boundary: without this the form would never end.
    const onAbort = () =>
      fail(badRequest('The client went away before the upload was complete', signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    req.pipe(parser);
  });
}
