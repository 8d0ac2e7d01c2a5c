import type { UploadOptions, UploadProgress, UploadSource } from './types.ts';

/** An upload's bytes: `data` can be read again and cut into parts; a `stream` can be read once. */
export type Payload =
  | { data: Blob | Uint8Array; size: number; name: string | undefined }
  | { stream: ReadableStream<Uint8Array>; size: number | undefined; name: string | undefined };

/** The payload of what any runtime can upload. */
export function webPayload(source: UploadSource, options: Pick<UploadOptions, 'size'>): Payload {
  if (source instanceof Blob) {
    const name = 'name' in source && typeof source.name === 'string' ? source.name : undefined;
    return { data: source, size: source.size, name };
  }
  if (source instanceof Uint8Array) return { data: source, size: source.byteLength, name: undefined };
  if (source instanceof ArrayBuffer) {
    return { data: new Uint8Array(source), size: source.byteLength, name: undefined };
  }
  if (source instanceof ReadableStream) return { stream: source, size: options.size, name: undefined };
  throw new TypeError('Upload a Blob, a File, bytes or a ReadableStream');
}

/** Bytes [start, end) of data that can be read again, without copying them. */
export const sliceOf = (data: Blob | Uint8Array, start: number, end: number): Blob | Uint8Array =>
  data instanceof Blob ? data.slice(start, end) : data.subarray(start, end);

/** Sums what the parts of an upload have sent and tells `onProgress` each time it changes. */
export class Progress {
  constructor(
    private readonly total: number | undefined,
    private readonly onProgress: ((progress: UploadProgress) => void) | undefined,
    private loaded = 0,
  ) {
    this.add(0);
  }

  add(bytes: number): void {
    this.loaded += bytes;
    this.onProgress?.({ loaded: this.loaded, total: this.total });
  }
}

type BodyInit = NonNullable<RequestInit['body']>;

/** A request body: opened once per attempt, and known to be sendable again or not. */
export interface Outgoing {
  /** The body of one attempt, which stops once `signal` aborts. */
  open(signal: AbortSignal | undefined): BodyInit;
  size: number | undefined;
  replayable(): boolean;
}

const CHUNK = 64 * 1024;

function streamOf(data: Blob | Uint8Array): ReadableStream<Uint8Array> {
  if (data instanceof Blob) return data.stream();
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.byteLength) return controller.close();
      controller.enqueue(data.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

/**
 * A stream that hands on `source` as it is read, counting the bytes, and knows whether it was read at
 * all. Nothing is read ahead (a high-water mark of 0), so an unread stream is still whole. Once `signal`
 * aborts it fails, and lets go of `source`: Node's fetch goes on reading a body after an abort.
 */
function metered(
  source: ReadableStream<Uint8Array>,
  onBytes: (bytes: number) => void,
  signal: AbortSignal | undefined,
) {
  const reader = source.getReader();
  let touched = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        touched = true;
        if (signal?.aborted) {
          controller.error(signal.reason);
          return reader.cancel(signal.reason);
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        onBytes(value.byteLength);
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { stream, touched: () => touched };
}

/**
 * The body that sends `data` (or a one-shot `stream`), counting its bytes into `progress`. Data is sent
 * as it is unless `streamed`: then as a stream, which lets progress count the bytes as they go out (in
 * Node.js; browsers send streams only over HTTP/2, if at all) and is made anew for each attempt, the
 * bytes of a failed attempt taken back off the progress. Without streaming, progress counts the whole
 * body once it is through (`settle`).
 */
export function outgoing(
  payload: { data: Blob | Uint8Array } | { stream: ReadableStream<Uint8Array> },
  size: number | undefined,
  progress: Progress,
  streamed: boolean,
): Outgoing & { settle(): void } {
  let sent = 0;
  const count = (bytes: number) => {
    sent += bytes;
    progress.add(bytes);
  };
  if ('stream' in payload) {
    let body: ReturnType<typeof metered> | undefined;
    return {
      open: (signal) => (body ??= metered(payload.stream, count, signal)).stream,
      size,
      replayable: () => !body?.touched(),
      settle: () => {},
    };
  }
  const { data } = payload;
  return {
    open(signal) {
      if (!streamed) return data;
      progress.add(-sent);
      sent = 0;
      return metered(streamOf(data), count, signal).stream;
    },
    size,
    replayable: () => true,
    settle: () => (streamed ? undefined : progress.add(size ?? 0)),
  };
}

/** Reads a stream in pieces of the sizes asked for. */
export class PieceReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** The next `size` bytes; fewer only where the stream ends. */
  async read(size: number): Promise<Uint8Array> {
    const piece = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      if (this.pending.byteLength === 0) {
        const { done, value } = await this.reader.read();
        if (done) return piece.subarray(0, filled);
        this.pending = value;
      }
      const take = Math.min(size - filled, this.pending.byteLength);
      piece.set(this.pending.subarray(0, take), filled);
      this.pending = this.pending.subarray(take);
      filled += take;
    }
    return piece;
  }

  /** Whether the stream has more bytes. */
  async more(): Promise<boolean> {
    while (this.pending.byteLength === 0) {
      const { done, value } = await this.reader.read();
      if (done) return false;
      this.pending = value;
    }
    return true;
  }

  /** Stops reading: the stream's source is told it can let go. */
  async cancel(reason?: unknown): Promise<void> {
    await this.reader.cancel(reason);
  }
}
