import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { FileRecord } from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import type { Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';
import { awaitVariants } from '../serving/await-variants.ts';
import { cleanFilename } from './clean-filename.ts';
import { receiveMultipart, type MultipartFile } from './receive-multipart.ts';
import { recordFile } from './record-file.ts';
import { discardUpload, storeUpload, type StoredUpload } from './store-upload.ts';

type Deps = Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>;

/** The longest an upload with waitForVariants=true waits for its variants. */
const WAIT_FOR_VARIANTS_MS = 30_000;

/** The form's parts around the file (boundaries, part headers, small fields) fit in this. */
const MULTIPART_OVERHEAD = 2048;

/** A boolean form field, read from its text. */
type FlagField = z.ZodOptional<z.ZodType<boolean, string>>;
/** A number of seconds in a form field, read from its text. */
type SecondsField = z.ZodOptional<z.ZodType<number, string>>;

export interface MultipartUpload {
  headers: IncomingHttpHeaders;
  body: Readable;
  /** The form's fields besides the file, as the route declares them. */
  fields: z.ZodObject<{ allowPublicAccess: FlagField; waitForVariants: FlagField; expiresIn: SecondsField }>;
  /** What Content-Length says the whole form holds (0 if it does not say): a hint, never a limit. */
  declaredBytes: number;
  signal: AbortSignal;
}

/**
 * Stores the file of a multipart/form-data upload as the form streams in, then records it: public
 * unless `allowPublicAccess` (or the bucket's default) says otherwise, expiring after `expiresIn` if
 * set; with `waitForVariants`, once its variants are made or failed, within a bound. A failure leaves
 * nothing behind.
 */
export async function uploadMultipart(
  deps: Deps,
  caller: Caller,
  bucket: string,
  upload: MultipartUpload,
  audit: AuditContext,
): Promise<FileRecord> {
  const settings = await deps.cache.bucketSettings(caller.tenantId, bucket);
  let stored: StoredUpload | undefined;
  let originalName = 'file';
  const onFile = async ({ stream, filename }: MultipartFile) => {
    originalName = filename;
    const expectedBytes = Math.max(0, upload.declaredBytes - MULTIPART_OVERHEAD);
    stored = await storeUpload(
      deps,
      caller,
      bucket,
      settings,
      { body: stream, name: filename, expectedBytes, upToBytes: upload.declaredBytes },
      upload.signal,
    );
  };
  const { fields, file } = await receiveMultipart(
    upload.headers,
    upload.body,
    { fields: upload.fields, onFile },
    upload.signal,
  )
    .then(async (fields) => ({
      fields,
      file: await recordFile(
        deps,
        {
          ...stored!,
          originalName,
          allowPublicAccess: fields.allowPublicAccess ?? settings.publicDefault,
          expiresIn: fields.expiresIn,
        },
        audit,
      ),
    }))
    .catch(async (err: unknown) => {
      if (stored) await discardUpload(deps, caller, stored);
      throw err;
    });
  return fields.waitForVariants ? awaitVariants(deps.pool, file, WAIT_FOR_VARIANTS_MS) : file;
}

export interface RawUpload {
  /** The file itself. */
  body: Readable;
  /** The client's name for it: metadata only. */
  filename: string;
  allowPublicAccess?: boolean | undefined;
  /** Seconds the file should live; undefined: as long as its bucket keeps files. */
  expiresIn?: number | undefined;
  /** The body's length, when the request states it (Content-Length). */
  length: number | undefined;
  signal: AbortSignal;
}

/** Stores a file sent as the whole request body, then records it. A failure leaves nothing behind. */
export async function uploadRaw(
  deps: Deps,
  caller: Caller,
  bucket: string,
  upload: RawUpload,
  audit: AuditContext,
): Promise<FileRecord> {
  const settings = await deps.cache.bucketSettings(caller.tenantId, bucket);
  const originalName = cleanFilename(upload.filename);
  const stored = await storeUpload(
    deps,
    caller,
    bucket,
    settings,
    // Node ends a body with a Content-Length at exactly that many bytes, or fails it.
    { body: upload.body, name: originalName, expectedBytes: upload.length ?? 0, exactBytes: upload.length },
    upload.signal,
  );
  try {
    return await recordFile(
      deps,
      {
        ...stored,
        originalName,
        allowPublicAccess: upload.allowPublicAccess ?? settings.publicDefault,
        expiresIn: upload.expiresIn,
      },
      audit,
    );
  } catch (err) {
    await discardUpload(deps, caller, stored);
    throw err;
  }
}
