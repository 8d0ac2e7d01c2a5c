import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type { z } from 'zod';
import { badRequest, invalidInput, unsupportedMediaType } from '@stowage/core';
import { cleanFilename } from './clean-filename.ts';

export interface MultipartFile {
  stream: Readable;
  filename: string;
}

export interface MultipartForm<F extends z.ZodObject> {
  /** The form's fields besides the file; each is checked as it arrives, before the file is read on. */
  fields: F;
  /** Called once, for the `file` field; must consume `file.stream`. */
  onFile(file: MultipartFile): Promise<void>;
}

/** Problems with a form's parts, reported where a JSON body's would be: `body.<field>`. */
const invalidFields = (problems: { field: string; message: string }[]) =>
  invalidInput(problems.map(({ field, message }) => ({ path: `body.${field}`, message })));

const MISSING_FILE = { field: 'file', message: 'send the file in the "file" field' };

const isMultipart = (contentType: string | undefined) =>
  /^multipart\/form-data\s*(;|$)/i.test(contentType ?? '');

/**
 * Parses a multipart/form-data upload as it streams in: exactly one file, in the field `file`, plus the
 * form's other fields. Resolves to those fields when the whole form is read and `onFile` has finished;
 * rejects with BAD_REQUEST for malformed forms, a missing, misnamed or second file, and unknown or bad
 * fields. File names are UTF-8, whether sent as they are in `filename` or encoded in `filename*` (RFC 5987).
 */
export function receiveMultipart<F extends z.ZodObject>(
  headers: IncomingHttpHeaders,
  body: Readable,
  form: MultipartForm<F>,
  signal: AbortSignal,
): Promise<z.output<F>> {
  if (!isMultipart(headers['content-type'])) {
    return Promise.reject(unsupportedMediaType('Uploads must be multipart/form-data with a "file" field'));
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers,
        // What browsers and curl send in `filename`; busboy reads it as latin1 unless told.
        defParamCharset: 'utf8',
        limits: { files: 1, fields: 10, fieldSize: 64, fieldNameSize: 64, parts: 12, headerPairs: 20 },
      });
    } catch (err) {
      reject(badRequest('Malformed multipart request', err));
      return;
    }
    const shape: Record<string, z.ZodType> = form.fields.shape;
    const values: Record<string, string> = {};
    let problem: Error | undefined;
    let fileWork: Promise<void> | undefined;
    let fileStream: Readable | undefined;
    // Stops reading the form: the file being written (if any) fails, and the rest of the body is drained
    // so the connection can carry the error response.
    const fail = (err: Error) => {
      problem ??= err;
      body.unpipe(parser);
      body.resume();
      fileStream?.destroy(problem);
      settle();
    };

    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || problem) {
        stream.resume();
        if (!problem) fail(invalidFields([{ ...MISSING_FILE, field: name }]));
        return;
      }
      fileStream = stream;
      fileWork = form.onFile({ stream, filename: cleanFilename(info.filename) });
      fileWork.catch((err: Error) => fail(err));
    });
    parser.on('field', (name, value, info) => {
      if (!Object.hasOwn(shape, name))
        return fail(invalidFields([{ field: name, message: 'unknown field' }]));
      if (info.valueTruncated) return fail(invalidFields([{ field: name, message: 'too long' }]));
      const checked = shape[name]!.safeParse(value);
      if (!checked.success) {
        return fail(invalidFields(checked.error.issues.map(({ message }) => ({ field: name, message }))));
      }
      values[name] = value;
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
        if (problem) return reject(problem);
        if (!fileWork) return reject(invalidFields([MISSING_FILE]));
        const parsed = form.fields.safeParse(values);
        if (parsed.success) return resolve(parsed.data);
        const problems = parsed.error.issues.map(({ path, message }) => ({
          field: path.map(String).join('.'),
          message,
        }));
        reject(invalidFields(problems));
      });
    }
    // A client that goes away may never send the closing boundary: without this the form would never end.
    const onAbort = () =>
      fail(badRequest('The client went away before the upload was complete', signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    body.pipe(parser);
  });
}
