import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import type { KeyMode } from '@stowage/core';
import { uploadForm } from '../support/http.ts';
import type { FaultTenant, Platform, Slot } from './platform.ts';
import type { Random } from './random.ts';

/** What a client asked and what it got: a status (and error code), or the error that stood for one. */
export interface Outcome {
  client: number;
  op: string;
  /** The process that answered: an API's slot name, or `store` for presigned part uploads. */
  target: string;
  started: number;
  ended: number;
  status?: number;
  code?: string;
  /** No answer: the connection was refused or reset, or the request timed out (`timedOut`). */
  error?: string;
  timedOut?: boolean;
  /** What was wrong with an answer that looked fine (bytes that differ, a lost file). */
  wrong?: string;
}

/** A file a client uploaded and got a 2xx for; `unknown` once a delete of it got no clear answer. */
export interface AckedFile {
  tenant: FaultTenant;
  mode: KeyMode;
  bucket: string;
  key: string;
  sha256: string;
  image: boolean;
  state: 'stored' | 'deleted' | 'unknown';
}

interface Answer {
  status: number;
  body: any;
  bytes: Buffer;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What is wrong with an answer to a GET of an acknowledged file that was not deleted. */
export function servedWrong(file: AckedFile, answer: { status: number; bytes: Buffer }): string | undefined {
  if (answer.status === 404) return `${file.key}, acknowledged, is not found`;
  if (answer.status === 200 && sha256(answer.bytes) !== file.sha256)
    return `${file.key} is served with other bytes`;
  return undefined;
}

/** A URL to serve a file at, on one API. */
export const fileUrl = (api: string, file: AckedFile) =>
  `${api}/${file.tenant.id}/${file.bucket}/${file.key}`;

/**
 * Concurrent clients uploading (multipart form, raw PUT, direct to the store through presigned URLs),
 * serving and deleting against both APIs, each request with a client-side timeout, recording every
 * outcome and every file acknowledged with a 2xx.
 */
export class Traffic {
  readonly outcomes: Outcome[] = [];
  readonly files: AckedFile[] = [];
  /** Direct uploads started and neither completed nor aborted: a tidy client aborts them. */
  private readonly unfinished: { tenant: FaultTenant; mode: KeyMode; uploadId: string }[] = [];
  private stopping = false;
  private running: Promise<void>[] = [];

  constructor(
    private readonly platform: Platform,
    private readonly random: Random,
    private readonly timeoutMs: number,
  ) {}

  start(clients: number): void {
    this.running = Array.from({ length: clients }, (_, client) => this.client(client));
  }

  /**
   * Stops the clients after their requests in flight; then, as a tidy client does, sends again the
   * deletes that got no clear answer (a delete that failed midway is finished by sending it again) and
   * aborts the direct uploads left open.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
    for (const file of this.files.filter((f) => f.state === 'unknown'))
      await this.delete(-1, this.platform.apis[0]!, file);
    for (const open of this.unfinished.splice(0)) {
      const res = await this.send(-1, 'abort', this.platform.apis[0]!, `/uploads/${open.uploadId}/abort`, {
        method: 'POST',
        headers: { 'x-api-key': open.tenant.keys[open.mode] },
      });
      if (res && res.status !== 200 && res.status !== 404) this.unfinished.push(open);
    }
  }

  private async client(client: number): Promise<void> {
    const ops = ['multipart', 'multipart', 'put', 'put', 'direct', 'serve', 'serve', 'serve', 'delete'];
    while (!this.stopping) {
      const api = this.random.pick(this.platform.apis);
      const op = this.random.pick(ops);
      if (op === 'serve') await this.serve(client, api);
      else if (op === 'delete') await this.delete(client, api);
      else await this.upload(client, api, op);
      await sleep(this.random.int(10, 80));
    }
  }

  /** One request with the client-side timeout; undefined when no answer came (recorded as such). */
  async send(
    client: number,
    op: string,
    target: Slot | string,
    path: string,
    init: RequestInit,
    check?: (answer: Answer) => string | undefined,
  ): Promise<Answer | undefined> {
    const name = typeof target === 'string' ? 'store' : target.name;
    const url = typeof target === 'string' ? target : `${target.url}${path}`;
    const outcome: Outcome = { client, op, target: name, started: Date.now(), ended: 0 };
    this.outcomes.push(outcome);
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      const bytes = Buffer.from(await res.arrayBuffer());
      outcome.status = res.status;
      let body: any;
      if (res.headers.get('content-type')?.startsWith('application/json')) {
        body = JSON.parse(bytes.toString());
        outcome.code = body.code;
      }
      const answer = { status: res.status, body, bytes };
      outcome.wrong = check?.(answer);
      return answer;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      outcome.timedOut = e.name === 'TimeoutError';
      outcome.error = `${e.name}: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.message})` : ''}`;
      return undefined;
    } finally {
      outcome.ended = Date.now();
    }
  }

  private async content(): Promise<{ bytes: Buffer; image: boolean }> {
    if (this.random.next() < 0.3) {
      const bytes = await sharp({
        create: {
          width: this.random.int(16, 120),
          height: this.random.int(16, 120),
          channels: 3,
          background: { r: this.random.int(0, 255), g: this.random.int(0, 255), b: this.random.int(0, 255) },
          noise: { type: 'gaussian', mean: 128, sigma: 40 },
        },
      })
        .png()
        .toBuffer();
      return { bytes, image: true };
    }
    // Text first, so that no random bytes are ever taken for an image by their magic number.
    const noise = this.random.bytes(this.random.int(1, 64 * 1024));
    return { bytes: Buffer.concat([Buffer.from('fault-suite '), noise]), image: false };
  }

  private async upload(client: number, api: Slot, kind: string): Promise<void> {
    const tenant = this.random.pick(this.platform.tenants);
    const mode: KeyMode = this.random.next() < 0.75 ? 'live' : 'test';
    const bucket = `c${client}`;
    const { bytes, image } = await this.content();
    const headers = { 'x-api-key': tenant.keys[mode] };
    let answer: Answer | undefined;
    if (kind === 'multipart') {
      const body = uploadForm(bytes, { filename: image ? 'a.png' : 'a.bin' });
      answer = await this.send(client, kind, api, `/upload/${bucket}`, { method: 'POST', headers, body });
    } else if (kind === 'put') {
      const body = new Uint8Array(bytes);
      answer = await this.send(client, kind, api, `/upload/${bucket}/a.bin`, {
        method: 'PUT',
        headers,
        body,
      });
    } else {
      answer = await this.direct(client, api, tenant, mode, bucket, bytes);
    }
    if (answer?.status !== 201) return;
    const key = answer.body.file.key as string;
    this.files.push({ tenant, mode, bucket, key, sha256: sha256(bytes), image, state: 'stored' });
  }

  /** Create, sign the one part, PUT it to the store, complete: the completion's answer, if it got that far. */
  private async direct(
    client: number,
    api: Slot,
    tenant: FaultTenant,
    mode: KeyMode,
    bucket: string,
    bytes: Buffer,
  ): Promise<Answer | undefined> {
    const json = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'x-api-key': tenant.keys[mode], 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const created = await this.send(
      client,
      'direct create',
      api,
      `/uploads/${bucket}`,
      json({ filename: 'a.bin', size: bytes.length }),
    );
    if (created?.status !== 201) return undefined;
    const uploadId = created.body.uploadId as string;
    const open = { tenant, mode, uploadId };
    this.unfinished.push(open);
    const signed = await this.send(
      client,
      'direct parts',
      api,
      `/uploads/${uploadId}/parts`,
      json({ partNumbers: [1] }),
    );
    if (signed?.status !== 200) return undefined;
    const part = await this.send(client, 'direct put', signed.body.parts[0].url, '', {
      method: 'PUT',
      body: new Uint8Array(bytes),
    });
    if (part?.status !== 200) return undefined;
    const completed = await this.send(
      client,
      'direct complete',
      api,
      `/uploads/${uploadId}/complete`,
      json({}),
    );
    if (completed?.status === 201) this.unfinished.splice(this.unfinished.indexOf(open), 1);
    return completed;
  }

  private mine(client: number): AckedFile[] {
    return this.files.filter((f) => f.state === 'stored' && f.bucket === `c${client}`);
  }

  private async serve(client: number, api: Slot): Promise<void> {
    const files = this.mine(client);
    if (files.length === 0) return;
    const file = this.random.pick(files);
    await this.send(client, 'serve', api, fileUrl('', file), {}, (answer) => servedWrong(file, answer));
  }

  private async delete(client: number, api: Slot, chosen?: AckedFile): Promise<void> {
    const files = this.mine(client);
    const file = chosen ?? (files.length > 0 ? this.random.pick(files) : undefined);
    if (!file) return;
    file.state = 'unknown';
    const answer = await this.send(client, 'delete', api, '/files/delete', {
      method: 'POST',
      headers: { 'x-api-key': file.tenant.keys[file.mode], 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: file.bucket, key: file.key }),
    });
    if (answer?.status === 200) file.state = 'deleted';
  }
}
