import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ResponseSink } from './response-sink.js';

/** A client that reads `perTick` bytes per event-loop turn, standing in for a slow socket. */
function slowClient(perTick: number): { res: ServerResponse; received: () => Buffer; done: Promise<void> } {
  const chunks: Buffer[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const res = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setTimeout(cb, chunk.length > perTick ? 2 : 0);
    },
    final(cb) {
      finish();
      cb();
    },
  });
  return { res: res as unknown as ServerResponse, received: () => Buffer.concat(chunks), done };
}

const body = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

describe('ResponseSink', () => {
  it('buffered: never pauses the upstream, spills past memory to a temp file, delivers every byte in order', async () => {
    const client = slowClient(1024);
    let resumed = 0;
    const sink = new ResponseSink(client.res, { buffering: true, memory: 8 * 1024, maxFile: 1024 ** 3, resume: () => resumed++ });
    const data = body(300_000);
    for (let i = 0; i < data.length; i += 4096) expect(sink.write(data.subarray(i, i + 4096))).toBe(true);
    sink.end();
    await client.done;
    expect(client.received().equals(data)).toBe(true);
    expect(resumed).toBe(0);
    sink.dispose();
  });

  it('buffered with a tiny memory limit (under the socket high-water mark) still drains', async () => {
    const client = slowClient(512);
    const sink = new ResponseSink(client.res, { buffering: true, memory: 100, maxFile: 1024 ** 3, resume: () => {} });
    const data = body(50_000);
    for (let i = 0; i < data.length; i += 1000) sink.write(data.subarray(i, i + 1000));
    sink.end();
    await client.done;
    expect(client.received().equals(data)).toBe(true);
  });

  it('buffered past max_temp_file_size: pauses the upstream and resumes it once the client caught up', async () => {
    const client = slowClient(1024);
    let resume!: () => void;
    let pauses = 0;
    const sink = new ResponseSink(client.res, { buffering: true, memory: 1024, maxFile: 10_000, resume: () => resume() });
    const data = body(40_000);
    // Like undici: after write() returns false, nothing more arrives until resume().
    for (let i = 0; i < data.length; i += 2000) {
      if (!sink.write(data.subarray(i, i + 2000))) {
        pauses++;
        await new Promise<void>((r) => (resume = r));
      }
    }
    sink.end();
    await client.done;
    expect(client.received().equals(data)).toBe(true);
    expect(pauses).toBeGreaterThan(0);
  });

  it('unbuffered: pauses the upstream when the client is behind and resumes on drain', async () => {
    const client = slowClient(1024);
    let resumed = 0;
    const sink = new ResponseSink(client.res, { buffering: false, memory: 1024, maxFile: 0, resume: () => resumed++ });
    expect(sink.write(Buffer.alloc(64 * 1024))).toBe(false);
    await new Promise((r) => client.res.once('drain', r));
    await new Promise((r) => setImmediate(r));
    expect(resumed).toBe(1);
    sink.end();
    await client.done;
  });
});
