import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { StowageClient } from './client.ts';
import { webPayload, type Payload } from './payload.ts';
import type { UploadOptions, UploadSource } from './types.ts';

/** What an upload takes in Node.js: anything `@stowage/sdk` takes, a file's path, or a Node stream. */
export type NodeUploadSource = UploadSource | string | Readable;

/**
 * The Stowage API client for Node.js: uploads also take paths and Node streams, and their progress
 * follows the bytes as they go out.
 */
export class Stowage extends StowageClient<NodeUploadSource> {
  protected override readonly streamBodies = true;

  protected override async payload(source: NodeUploadSource, options: UploadOptions): Promise<Payload> {
    if (typeof source === 'string') {
      // A Blob backed by the file: read in slices as needed, again on a retry.
      const data = await openAsBlob(source);
      return { data, size: data.size, name: basename(source) };
    }
    if (source instanceof Readable) {
      const path = 'path' in source && typeof source.path === 'string' ? source.path : undefined;
      const stream = Readable.toWeb(source) as ReadableStream<Uint8Array>;
      return { stream, size: options.size, name: path && basename(path) };
    }
    return webPayload(source, options);
  }
}

export { eachBounded } from './bounded.ts';
export { StowageClient, type CallOptions } from './client.ts';
export { StowageError, type ClientErrorCode, type ErrorCode } from './errors.ts';
export type * from './types.ts';
export type * from './wire.ts';
