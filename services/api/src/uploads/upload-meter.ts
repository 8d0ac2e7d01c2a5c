import { Transform, type TransformCallback } from 'node:stream';
import { payloadTooLarge } from '@stowage/core';
import type { QuotaGuard } from './quota-guard.ts';

/**
 * Counts the bytes of an upload as they pass, fails the stream once they exceed `maxBytes`, and holds
 * each chunk back until the quota reservation covers it (which also applies backpressure).
 */
export class UploadMeter extends Transform {
  bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly quota: QuotaGuard,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(payloadTooLarge(this.maxBytes));
    if (this.quota.covers(this.bytes)) return callback(null, chunk);
    this.quota.cover(this.bytes).then(() => callback(null, chunk), callback);
  }
}
