import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Stowage, StowageError, type StowageOptions, type UploadState } from '@stowage/sdk';
import { Stowage as NodeStowage } from '@stowage/sdk/node';
import { realBackend, type ApiStack, type TestTenant } from '../support/api-stack.ts';
import { holdings, MiB, onStack, recordingFetch, served, sha256, type Sent } from './support.ts';

// The API cuts direct uploads into parts of 5 MiB (S3's smallest); a low threshold sends small files so.
const PART = 5 * MiB;
/** A part PUT straight to the store (MinIO), with its presigned URL. */
const isPartPut = (s: Omit<Sent, 'status'>) =>
  s.method === 'PUT' && s.url.href.startsWith(process.env.S3_ENDPOINT!);
const partNumber = (s: Sent) => s.url.searchParams.get('partNumber');

describe('@stowage/sdk direct uploads to S3', () => {
  let stack: ApiStack;
  let tenant: TestTenant;
  const sdk = (options: Partial<StowageOptions> = {}) =>
    new Stowage({
      baseUrl: stack.url,
      apiKey: tenant.key,
      bucket: 'videos',
      multipartThreshold: MiB,
      ...options,
    });

  before(async () => {
    stack = await realBackend.create();
    tenant = await stack.createTenant();
  });
  after(() => stack.close());

  it('sends a large file in parts, several at once, straight to the store', async () => {
    const bytes = randomBytes(3 * PART + MiB);
    const { fetch, sent } = recordingFetch();
    const progress: number[] = [];
    const states: UploadState[] = [];
    const result = await sdk({ fetch, partConcurrency: 3 }).uploadFile(new File([bytes], 'talk.mp4'), {
      onProgress: (p) => progress.push(p.loaded),
      onState: (s) => states.push(s),
    });
    assert.equal(result.file.size, bytes.length);
    assert.equal(result.file.original, 'talk.mp4');
    assert.equal(sha256(await served(onStack(stack, result.url))), sha256(bytes));
    assert.equal(sent.filter(isPartPut).length, 4, 'four parts, each sent once');
    assert.deepEqual(
      sent
        .filter((s) => !isPartPut(s))
        .map((s) => `${s.method} ${s.url.pathname.replace(/[0-9a-f-]{36}/, ':id')}`),
      ['POST /uploads/videos', 'POST /uploads/:id/parts', 'POST /uploads/:id/complete'],
      'the part URLs signed in one request',
    );
    assert.equal(progress.length, 5, 'at the start, then as each part is stored');
    assert.deepEqual([progress[0], progress.at(-1)], [0, bytes.length]);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.deepEqual(
      states.map((s) => s.parts.length),
      [0, 1, 2, 3, 4],
      'a state when the upload starts and one per stored part',
    );
  });

  it('gives a file sent in parts the lifetime asked for', async () => {
    const { fetch, sent } = recordingFetch();
    const started = Date.now();
    const result = await sdk({ fetch }).uploadFile(new File([randomBytes(2 * MiB)], 'clip.mp4'), {
      expiresIn: 600,
    });
    assert.equal(sent.filter(isPartPut).length, 1, 'sent as a direct upload');
    const expires = Date.parse(result.file.expiresAt!);
    assert.ok(expires >= started + 600_000 && expires <= Date.now() + 600_000, 'ten minutes after upload');
  });

  it('sends a web stream and a Node stream of stated size in parts', async () => {
    const bytes = randomBytes(PART + 3 * MiB);
    const web = await sdk().uploadFile(new Blob([bytes]).stream(), {
      size: bytes.length,
      filename: 'web.bin',
    });
    const node = await new NodeStowage({
      baseUrl: stack.url,
      apiKey: tenant.key,
      bucket: 'videos',
      multipartThreshold: MiB,
    }).uploadFile(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]), {
      size: bytes.length,
      filename: 'node.bin',
    });
    for (const upload of [web, node]) {
      assert.equal(sha256(await served(onStack(stack, upload.url))), sha256(bytes));
    }
  });

  it('retries a part that failed on its own', async () => {
    const bytes = randomBytes(2 * PART + 1);
    let dropped = 0;
    const { fetch, sent } = recordingFetch({
      // The first PUT of part 2 loses its connection.
      failFirst: (s) => isPartPut(s) && s.url.searchParams.get('partNumber') === '2' && dropped++ === 0,
    });
    const result = await sdk({ fetch, retry: { baseDelayMs: 10 } }).uploadFile(bytes);
    assert.equal(sha256(await served(onStack(stack, result.url))), sha256(bytes));
    assert.deepEqual(
      sent
        .filter(isPartPut)
        .map((s) => `${partNumber(s)} ${s.status}`)
        .sort(),
      ['1 200', '2 200', '2 failed', '3 200'],
    );
  });

  it('resumes an upload aborted half-way without sending its stored parts again', async () => {
    const bytes = randomBytes(3 * PART + 2 * MiB);
    const controller = new AbortController();
    let saved: string | undefined;
    const first = recordingFetch();
    const error = await sdk({ fetch: first.fetch, partConcurrency: 1 })
      .uploadFile(bytes, {
        filename: 'big.bin',
        signal: controller.signal,
        onState(state) {
          saved = JSON.stringify(state);
          if (state.parts.length === 2) controller.abort();
        },
      })
      .then(
        () => assert.fail('the upload was aborted'),
        (err: unknown) => err,
      );
    assert.ok(error instanceof StowageError);
    assert.equal(error.code, 'ABORTED');
    assert.deepEqual(
      error.uploadState?.parts.map((p) => p.partNumber),
      [1, 2],
    );
    assert.deepEqual(JSON.parse(saved!), error.uploadState, 'the last state saved is the one thrown');
    assert.equal(first.sent.filter(isPartPut).length, 2);
    assert.equal((await holdings(stack, tenant)).reserved, bytes.length, 'the quota stays reserved');

    // Another client, in another process say, from the state it saved.
    const second = recordingFetch();
    const progress: number[] = [];
    const result = await sdk({ fetch: second.fetch }).uploadFile(bytes, {
      resume: JSON.parse(saved!) as UploadState,
      onProgress: (p) => progress.push(p.loaded),
    });
    assert.deepEqual(
      second.sent.filter(isPartPut).map(partNumber).sort(),
      ['3', '4'],
      'only the parts not stored yet',
    );
    assert.equal(progress[0], 2 * PART, 'progress starts from what is stored');
    assert.equal(result.file.key, error.uploadState!.key);
    assert.equal(sha256(await served(onStack(stack, result.url))), sha256(bytes));
  });

  it('gives up an interrupted upload with abortUpload, releasing its quota', async () => {
    const own = await stack.createTenant();
    const bytes = randomBytes(PART + 1);
    const controller = new AbortController();
    const client = new Stowage({ baseUrl: stack.url, apiKey: own.key, bucket: 'b', multipartThreshold: MiB });
    const error = await client
      .uploadFile(bytes, {
        signal: controller.signal,
        partConcurrency: 1,
        onState(state) {
          if (state.parts.length === 1) controller.abort();
        },
      })
      .catch((err: unknown) => err);
    assert.ok(error instanceof StowageError && error.uploadState);
    await client.abortUpload(error.uploadState);
    assert.deepEqual(await holdings(stack, own), { objects: [], used: 0, reserved: 0, files: 0 });
    const again = await client.uploadFile(bytes, { resume: error.uploadState }).catch((err: unknown) => err);
    assert.ok(again instanceof StowageError);
    assert.equal(again.code, 'FILE_NOT_FOUND', 'an aborted upload cannot be resumed');
    assert.equal(again.uploadState, undefined, 'and there is nothing left to resume');
  });
});
