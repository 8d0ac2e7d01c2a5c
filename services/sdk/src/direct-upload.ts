import { eachBounded } from './bounded.ts';
import { StowageError } from './errors.ts';
import { outgoing, PieceReader, Progress, sliceOf, type Payload } from './payload.ts';
import type { Transport } from './transport.ts';
import type { UploadProgress, UploadState } from './types.ts';
import type { DirectUploadCreated, SignedParts, UploadResult } from './wire.ts';

/** Part URLs are signed for 15 minutes; one signed longer ago than this is signed again first. */
const URL_FRESH_MS = 5 * 60_000;
/** Parts signed per request: signing counts against the upload rate limit, so not one by one. */
const SIGN_BATCH = 64;

const enc = encodeURIComponent;

export interface NewDirectUpload {
  bucket: string;
  filename: string;
  size: number;
  allowPublicAccess: boolean | undefined;
  expiresIn: number | undefined;
  signal: AbortSignal | undefined;
}

/** Starts a direct upload: the API reserves the quota and says how to cut the file. */
export async function createDirectUpload(
  transport: Transport,
  upload: NewDirectUpload,
): Promise<UploadState> {
  const { bucket, filename, size, allowPublicAccess, expiresIn, signal } = upload;
  const created = await transport.api<DirectUploadCreated>({
    method: 'POST',
    path: `/uploads/${enc(bucket)}`,
    json: { filename, size, allowPublicAccess, expiresIn },
    signal,
  });
  const { uploadId, key, partSize, partCount, expiresAt } = created;
  return { uploadId, bucket, key, size, partSize, partCount, expiresAt, parts: [] };
}

/**
 * Whether the API refused a direct upload because its object store has none (the embedded filesystem
 * store): a BAD_REQUEST pointing to the streamed upload, with no code of its own to tell it by.
 */
export const noDirectUploads = (err: unknown): boolean =>
  err instanceof StowageError && err.code === 'BAD_REQUEST' && /POST \/upload\/:bucket/.test(err.message);

export interface PartSending {
  transport: Transport;
  /** Send each part as a stream, for progress as its bytes go (see `outgoing`). */
  streamed: boolean;
  concurrency: number;
  onProgress: ((progress: UploadProgress) => void) | undefined;
  onState: ((state: UploadState) => void) | undefined;
  signal: AbortSignal | undefined;
}

const snapshot = (state: UploadState): UploadState => ({ ...state, parts: [...state.parts] });

/**
 * Sends the parts of `state` that are not stored yet, several at once, then completes the upload. If
 * anything fails first, the upload is still live (unless it is gone): the thrown StowageError carries
 * its state to resume.
 */
export async function sendParts(
  how: PartSending,
  state: UploadState,
  payload: Payload,
): Promise<UploadResult> {
  if (payload.size !== undefined && payload.size !== state.size) {
    throw new RangeError(`This upload is of ${state.size} bytes; the file has ${payload.size}`);
  }
  const stored = new Set(state.parts.map((p) => p.partNumber));
  const done = [...stored].reduce((sum, n) => sum + partRange(state, n).size, 0);
  const progress = new Progress(state.size, how.onProgress, done);
  try {
    await eachBounded(pieces(how, state, payload, stored), how.concurrency, async (piece) => {
      const body = outgoing(piece, piece.size, progress, how.streamed);
      const etag = await how.transport.putPart(piece.url, body, how.signal);
      body.settle();
      state.parts.push({ partNumber: piece.partNumber, etag });
      how.onState?.(snapshot(state));
    });
  } catch (err) {
    // A 404 says the upload is gone (aborted, expired): nothing to resume.
    if (err instanceof StowageError && err.status !== 404) err.uploadState = snapshot(state);
    throw err;
  }
  const parts = [...state.parts].sort((a, b) => a.partNumber - b.partNumber);
  return how.transport.api<UploadResult>({
    method: 'POST',
    path: `/uploads/${enc(state.uploadId)}/complete`,
    json: { parts },
    signal: how.signal,
  });
}

function partRange(state: UploadState, partNumber: number) {
  const start = (partNumber - 1) * state.partSize;
  const end = Math.min(state.size, start + state.partSize);
  return { start, end, size: end - start };
}

interface Piece {
  partNumber: number;
  data: Blob | Uint8Array;
  size: number;
  url: string;
}

/**
 * The parts still to send, in order, each with a fresh URL: cut from data, or read from a stream
 * (skipping the bytes of stored parts), one part at a time as the sending takes them.
 */
async function* pieces(
  how: PartSending,
  state: UploadState,
  payload: Payload,
  stored: Set<number>,
): AsyncGenerator<Piece> {
  const todo = Array.from({ length: state.partCount }, (_, i) => i + 1).filter((n) => !stored.has(n));
  const urls = new Map<number, string>();
  let signedAt = 0;
  const reader = 'stream' in payload ? new PieceReader(payload.stream) : undefined;
  try {
    for (let partNumber = 1; partNumber <= state.partCount; partNumber++) {
      const { start, end, size } = partRange(state, partNumber);
      const data = 'stream' in payload ? await reader!.read(size) : sliceOf(payload.data, start, end);
      const got = data instanceof Blob ? data.size : data.byteLength;
      if (got < size) throw new RangeError(`The stream ended after ${start + got} of ${state.size} bytes`);
      if (stored.has(partNumber)) continue;
      if (!urls.has(partNumber) || Date.now() - signedAt > URL_FRESH_MS) {
        const batch = todo.filter((n) => n >= partNumber).slice(0, SIGN_BATCH);
        const signed = await how.transport.api<SignedParts>({
          method: 'POST',
          path: `/uploads/${enc(state.uploadId)}/parts`,
          json: { partNumbers: batch },
          signal: how.signal,
        });
        signedAt = Date.now();
        for (const part of signed.parts) urls.set(part.partNumber, part.url);
      }
      yield { partNumber, data, size, url: urls.get(partNumber)! };
    }
    if (reader && (await reader.more())) {
      throw new RangeError(`The stream holds more than the ${state.size} bytes stated`);
    }
  } finally {
    await reader?.cancel();
  }
}

/** Gives up a direct upload: the store drops its parts and the API releases the quota. */
export async function abortDirectUpload(
  transport: Transport,
  state: UploadState,
  signal: AbortSignal | undefined,
): Promise<void> {
  await transport.api({ method: 'POST', path: `/uploads/${enc(state.uploadId)}/abort`, signal });
}
