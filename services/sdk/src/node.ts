import type { Readable } from 'node:stream';
import { StowageClient } from './client.ts';
import type { UploadSource } from './types.ts';

/** What an upload takes in Node.js: anything `@stowage/sdk` takes, a file's path, or a Node stream. */
export type NodeUploadSource = UploadSource | string | Readable;

/** The Stowage API client for Node.js: uploads also take paths and Node streams. */
export class Stowage extends StowageClient<NodeUploadSource> {}

export { StowageClient, type CallOptions } from './client.ts';
export { StowageError, type ClientErrorCode, type ErrorCode } from './errors.ts';
export type * from './types.ts';
export type * from './wire.ts';
