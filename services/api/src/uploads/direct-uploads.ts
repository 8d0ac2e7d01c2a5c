import { buffer } from 'node:stream/consumers';
import { randomUUID } from 'node:crypto';
import {
  DIRECT_UPLOAD_LIFETIME_MS,
  EXTENSION_PATTERN,
  badRequest,
  fileNotFound,
  claimDirectUpload,
  getDirectUpload,
  insertDirectUpload,
  isUuid,
  objectKeyOf,
  payloadTooLarge,
  releaseReservation,
  renewReservation,
  reserveQuota,
  unsupportedMediaType,
  type DirectUpload,
  type DirectUploads,
  type FileRecord,
  type UploadedPart,
} from '@stowage/core';
import type { AuditContext } from '../audit/audit-context.ts';
import { maxFileBytes, type Caller } from '../auth/authenticator.ts';
import type { ApiDeps } from '../deps.ts';
import { cleanFilename } from './clean-filename.ts';
import { QuotaGuard } from './quota-guard.ts';
import { recordFile } from './record-file.ts';
import { sniffType, SNIFF_BYTES, typeAllowed } from './sniff.ts';

const MiB = 1024 * 1024;
/** S3's smallest part (but for the last) and most parts. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;
const PART_URL_SECONDS = 15 * 60;
const FILE_EXTENSION = new RegExp(`\\.(${EXTENSION_PATTERN})$`, 'i');

/** Parts of at least 5 MiB, in whole MiB, few enough for S3's 10,000-part limit. */
function partSizeFor(size: number): number {
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

export const partCountOf = (u: Pick<DirectUpload, 'declaredSize' | 'partSize'>) =>
  Math.ceil(u.declaredSize / u.partSize);

function directUploads(deps: Pick<ApiDeps, 'store'>): DirectUploads {
  if (!deps.store.direct) {
    throw badRequest('Direct uploads need an S3 object store; send the file to POST /upload/:bucket instead');
  }
  return deps.store.direct;
}

/** A live upload of the caller's tenant. */
async function liveUpload(deps: Pick<ApiDeps, 'pool'>, caller: Caller, id: string): Promise<DirectUpload> {
  const upload = isUuid(id) ? await getDirectUpload(deps.pool, caller, id) : undefined;
  if (!upload) throw fileNotFound();
  return upload;
}

/**
 * A live upload of the caller's tenant, taken for completing or aborting so that no concurrent call can
 * take it too, with its reservation held as a writer's: renewed while this process works on it, and
 * released by the sweeper soon after if the process dies or its clean-up fails (a store that is down),
 * instead of a day later with the upload no longer to be completed or aborted.
 */
async function claimedUpload(
  deps: Pick<ApiDeps, 'pool' | 'config' | 'metrics'>,
  caller: Caller,
  id: string,
): Promise<{ upload: DirectUpload; quota: QuotaGuard }> {
  const ttlMs = deps.config.reservationTtlMs;
  const upload = isUuid(id) ? await claimDirectUpload(deps.pool, caller, id, ttlMs) : undefined;
  if (!upload) throw fileNotFound();
  const reservation = {
    id: upload.reservationId,
    tenantId: caller.tenantId,
    mode: upload.mode,
    bytes: upload.declaredSize,
  };
  const quota = QuotaGuard.adopt(deps.pool, deps.metrics, reservation, ttlMs);
  return { upload, quota };
}

export interface NewDirectUpload {
  /** The client's name for the file: metadata, and where the stored key's extension comes from. */
  filename: string;
  size: number;
  allowPublicAccess?: boolean | undefined;
  /** Seconds the file should live once complete; undefined: as long as its bucket keeps files. */
  expiresIn?: number | undefined;
}

/**
 * Starts a direct upload: reserves the whole declared size and creates the multipart upload in S3.
 * The file is public unless `allowPublicAccess` (or the bucket's default) says otherwise.
 */
export async function startDirectUpload(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'cache'>,
  caller: Caller,
  bucket: string,
  input: NewDirectUpload,
): Promise<DirectUpload> {
  const direct = directUploads(deps);
  const maxBytes = maxFileBytes(caller, deps.config.maxFileSizeLimit);
  if (input.size > maxBytes) throw payloadTooLarge(maxBytes);
  const settings = await deps.cache.bucketSettings(caller.tenantId, bucket);
  const id = randomUUID();
  const originalName = cleanFilename(input.filename);
  const ext = FILE_EXTENSION.exec(originalName)?.[1]?.toLowerCase() ?? 'bin';
  const fileKey = `${randomUUID()}.${ext}`;
  const objectKey = objectKeyOf(bucket, fileKey);
  const reservation = await reserveQuota(deps.pool, {
    tenantId: caller.tenantId,
    mode: caller.mode,
    bytes: input.size,
    objectKey,
    // A writer's lifetime until the upload is recorded: if this process dies before, the sweeper
    // releases the quota soon (nobody could complete or abort an upload with no row).
    ttlMs: deps.config.reservationTtlMs,
  });
  const storageBucket = caller.tenant.storageBucket;
  let s3UploadId: string | undefined;
  try {
    const uploadId = await direct.create({
      bucket: storageBucket,
      key: objectKey,
      contentType: 'application/octet-stream',
    });
    s3UploadId = uploadId;
    const upload: DirectUpload = {
      id,
      tenantId: caller.tenantId,
      reservationId: reservation.id,
      bucket,
      fileKey,
      s3UploadId: uploadId,
      originalName,
      declaredSize: input.size,
      partSize: partSizeFor(input.size),
      allowPublicAccess: input.allowPublicAccess ?? settings.publicDefault,
      expiresAt: new Date(Date.now() + DIRECT_UPLOAD_LIFETIME_MS),
      mode: caller.mode,
      expiresIn: input.expiresIn,
    };
    await insertDirectUpload(deps.pool, upload);
    await renewReservation(deps.pool, reservation.id, DIRECT_UPLOAD_LIFETIME_MS);
    return upload;
  } catch (err) {
    if (s3UploadId) await direct.abort({ bucket: storageBucket, key: objectKey, uploadId: s3UploadId });
    await releaseReservation(deps.pool, reservation.id);
    throw err;
  }
}

/** Presigned URLs for the given parts of a live upload. */
export async function presignParts(
  deps: Pick<ApiDeps, 'pool' | 'store'>,
  caller: Caller,
  id: string,
  partNumbers: number[],
) {
  const direct = directUploads(deps);
  const upload = await liveUpload(deps, caller, id);
  const count = partCountOf(upload);
  const bad = partNumbers.find((n) => !Number.isInteger(n) || n < 1 || n > count);
  if (bad !== undefined) throw badRequest(`Part numbers run from 1 to ${count}; got ${bad}`);
  const key = objectKeyOf(upload.bucket, upload.fileKey);
  return Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await direct.presignPart({
        bucket: caller.tenant.storageBucket,
        key,
        uploadId: upload.s3UploadId,
        partNumber,
        size: partNumber < count ? upload.partSize : upload.declaredSize - (count - 1) * upload.partSize,
        expiresInSeconds: PART_URL_SECONDS,
      }),
    })),
  );
}

/** Why the parts in the store do not make up the declared file, or undefined if they do. */
function partsProblem(
  upload: DirectUpload,
  parts: UploadedPart[],
  claimed?: { partNumber: number; etag: string }[],
) {
  const count = partCountOf(upload);
  if (parts.length !== count || parts.some((p, i) => p.partNumber !== i + 1)) {
    return `expected parts 1 to ${count}, the store has [${parts.map((p) => p.partNumber).join(', ')}]`;
  }
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  if (total !== upload.declaredSize)
    return `the parts hold ${total} bytes, ${upload.declaredSize} were declared`;
  const short = parts.slice(0, -1).find((p) => p.size !== upload.partSize);
  if (short) return `part ${short.partNumber} holds ${short.size} bytes instead of ${upload.partSize}`;
  const mismatch = claimed?.find(
    (c) => parts[c.partNumber - 1]?.etag.replaceAll('"', '') !== c.etag.replaceAll('"', ''),
  );
  if (mismatch || (claimed && claimed.length !== count))
    return 'the part ETags do not match what the store holds';
  return undefined;
}

/**
 * Completes a direct upload after checking, against the store, that the parts make up exactly the
 * declared size; reads the type from the first bytes; then records the file and settles the quota.
 * Anything wrong discards the whole upload: nothing is left behind.
 */
export async function finishDirectUpload(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics' | 'cache'>,
  caller: Caller,
  id: string,
  claimed: { partNumber: number; etag: string }[] | undefined,
  audit: AuditContext,
): Promise<FileRecord> {
  const direct = directUploads(deps);
  const { upload, quota } = await claimedUpload(deps, caller, id);
  const bucket = caller.tenant.storageBucket;
  const key = objectKeyOf(upload.bucket, upload.fileKey);
  const discard = async () => {
    try {
      await direct.abort({ bucket, key, uploadId: upload.s3UploadId });
      await deps.store.delete({ bucket, keys: [key] });
    } catch (err) {
      quota.abandon();
      throw err;
    }
    await quota.release(); // the upload's row goes with its reservation
  };
  try {
    const parts = await direct.listParts({ bucket, key, uploadId: upload.s3UploadId });
    const problem = partsProblem(upload, parts, claimed);
    if (problem) throw badRequest(`Upload rejected: ${problem}`);
    await direct.complete({ bucket, key, uploadId: upload.s3UploadId, parts });
    const head = await deps.store.get({
      bucket,
      key,
      range: { start: 0, end: Math.min(SNIFF_BYTES, upload.declaredSize) - 1 },
    });
    const type = await sniffType(await buffer(head.body), upload.originalName);
    if (head.size !== upload.declaredSize)
      throw badRequest('Upload rejected: the stored size differs from the declared one');
    const settings = await deps.cache.bucketSettings(caller.tenantId, upload.bucket);
    if (!typeAllowed(type.mimetype, settings.allowedTypes)) {
      throw unsupportedMediaType(`Bucket ${upload.bucket} does not accept ${type.mimetype}`);
    }
    return await recordFile(
      deps,
      {
        id: upload.fileKey.slice(0, 36),
        tenantId: caller.tenantId,
        bucket: upload.bucket,
        key: upload.fileKey,
        size: upload.declaredSize,
        mimetype: type.mimetype,
        originalName: upload.originalName,
        allowPublicAccess: upload.allowPublicAccess,
        mode: upload.mode,
        expiresIn: upload.expiresIn,
        quota,
      },
      audit,
    );
  } catch (err) {
    await discard();
    throw err;
  }
}

/** Abandons a direct upload: aborts it in the store and releases its quota. */
export async function cancelDirectUpload(
  deps: Pick<ApiDeps, 'pool' | 'store' | 'config' | 'metrics'>,
  caller: Caller,
  id: string,
): Promise<void> {
  const direct = directUploads(deps);
  const { upload, quota } = await claimedUpload(deps, caller, id);
  const key = objectKeyOf(upload.bucket, upload.fileKey);
  await direct
    .abort({ bucket: caller.tenant.storageBucket, key, uploadId: upload.s3UploadId })
    .catch((err: unknown) => {
      quota.abandon();
      throw err;
    });
  await quota.release();
}
