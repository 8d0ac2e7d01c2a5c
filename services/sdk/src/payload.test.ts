import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outgoing, PieceReader, Progress, sliceOf, webPayload } from './payload.ts';

function streamOf(...chunks: number[][]) {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new Uint8Array(chunk));
      controller.close();
    },
  });
}

async function drain(body: ReadableStream<Uint8Array> | Blob | string) {
  return new Uint8Array(await new Response(body).arrayBuffer());
}

describe('webPayload', () => {
  it('takes Blobs, Files, bytes and streams', () => {
    const file = new File(['abc'], 'a.txt');
    assert.deepEqual(webPayload(file, {}), { data: file, size: 3, name: 'a.txt' });
    assert.equal(webPayload(new Blob(['abcd']), {}).name, undefined);
    assert.equal(webPayload(Buffer.from('ab'), {}).size, 2);
    assert.equal(webPayload(new ArrayBuffer(5), {}).size, 5);
    const stream = streamOf([1]);
    assert.deepEqual(webPayload(stream, { size: 1 }), { stream, size: 1, name: undefined });
    assert.throws(() => webPayload('text' as never, {}), TypeError);
  });

  it('cuts data without copying it', () => {
    const bytes = new Uint8Array([0, 1, 2, 3, 4]);
    const part = sliceOf(bytes, 1, 3) as Uint8Array;
    assert.deepEqual([...part], [1, 2]);
    assert.equal(part.buffer, bytes.buffer);
  });
});

describe('outgoing', () => {
  it('sends a one-shot stream once: it can be sent again only while unread', async () => {
    const progress: number[] = [];
    const body = outgoing(
      { stream: streamOf([1, 2], [3]) },
      3,
      new Progress(3, (p) => progress.push(p.loaded)),
      false,
    );
    assert.equal(body.replayable(), true);
    const opened = body.open(undefined);
    assert.equal(body.replayable(), true, 'opened but not read');
    assert.deepEqual([...(await drain(opened as ReadableStream<Uint8Array>))], [1, 2, 3]);
    assert.equal(body.replayable(), false);
    assert.deepEqual(progress, [0, 2, 3]);
  });

  it('streams data anew for each attempt, taking a failed attempt back off the progress', async () => {
    const progress: number[] = [];
    const body = outgoing(
      { data: new Uint8Array(200 * 1024) },
      200 * 1024,
      new Progress(200 * 1024, (p) => progress.push(p.loaded)),
      true,
    );
    const reader = (body.open(undefined) as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(progress.at(-1), 64 * 1024);
    assert.equal(body.replayable(), true);
    assert.equal((await drain(body.open(undefined) as ReadableStream<Uint8Array>)).byteLength, 200 * 1024);
    assert.equal(progress.at(-1), 200 * 1024, 'counted once');
    assert.ok(progress.includes(0) && progress.indexOf(0, 1) > 0, 'back to 0 for the second attempt');
  });

  it('sends data as it is without streaming, counting it once through', async () => {
    const progress: number[] = [];
    const data = new Blob(['hello']);
    const body = outgoing({ data }, 5, new Progress(5, (p) => progress.push(p.loaded)), false);
    assert.equal(body.open(undefined), data);
    body.settle();
    assert.deepEqual(progress, [0, 5]);
  });

  it('fails a stream once its signal aborts, and lets go of the source', async () => {
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(10)),
      cancel: (reason) => {
        cancelled = reason;
      },
    });
    const controller = new AbortController();
    const reader = (
      outgoing({ stream: source }, undefined, new Progress(undefined, undefined), true).open(
        controller.signal,
      ) as ReadableStream<Uint8Array>
    ).getReader();
    await reader.read();
    controller.abort(new Error('stop'));
    await assert.rejects(reader.read(), /stop/);
    assert.match(String(cancelled), /stop/);
  });
});

describe('PieceReader', () => {
  it('reads pieces of the sizes asked for across chunk boundaries, and a short last one', async () => {
    const reader = new PieceReader(streamOf([1, 2, 3], [4], [5, 6, 7, 8]));
    assert.deepEqual([...(await reader.read(2))], [1, 2]);
    assert.deepEqual([...(await reader.read(3))], [3, 4, 5]);
    assert.equal(await reader.more(), true);
    assert.deepEqual([...(await reader.read(5))], [6, 7, 8]);
    assert.equal(await reader.more(), false);
  });
});
