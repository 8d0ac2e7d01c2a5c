import { StowageClient } from './client.ts';
import { webPayload } from './payload.ts';
import type { UploadOptions, UploadSource } from './types.ts';

/** The Stowage API client for any runtime with `fetch`: Node.js 24+, browsers, Deno, Bun, workers. */
export class Stowage extends StowageClient<UploadSource> {
  protected override async payload(source: UploadSource, options: UploadOptions) {
    return webPayload(source, options);
  }
}

export { eachBounded } from './bounded.ts';
export { StowageClient, type CallOptions } from './client.ts';
export { StowageError, type ClientErrorCode, type ErrorCode } from './errors.ts';
export type * from './types.ts';
export type * from './wire.ts';
