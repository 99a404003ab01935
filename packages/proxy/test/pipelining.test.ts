import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, tempDir, until } from '@nodicorn/testkit';
import { startProxy, startUpstream, statuses, upstreamSeen } from './helpers.js';

afterEach(runCleanups);

/** The proxy's per-connection queue bound (PIPELINE_DEPTH in src/flow/connection-queue.ts). */
const PIPELINE_DEPTH = 16;

/** Opens a raw connection and writes `payload` at once; collects what comes back. */
function pipeline(port: number, payload: string): { socket: net.Socket; received: () => string } {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', () => {});
  socket.write(payload);
  return { socket, received: () => data };
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('pipelined requests (issue 11 items 2, 3)', () => {
  it('runs one exchange per connection at a time, answers other clients meanwhile, and stops after a disconnect', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--access-log', 'off']);
    const one = 'GET /slow?ms=100&tag=p HTTP/1.1\r\nHost: x\r\n\r\n';
    const client = pipeline(proxy.port, one.repeat(600));
    // Served in order, one after the other.
    await until(() => statuses(client.received()).length >= 5, 10_000, 'five pipelined answers');
    const started = Date.now();
    const other = await request({ url: proxy.http, path: '/' });
    expect(other.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    client.socket.destroy();
    const atClose = (await upstreamSeen(up)).seen.filter((s) => s.includes('tag=p')).length;
    // Let the one in flight finish; nothing queued behind it may start.
    await until(async () => (await upstreamSeen(up)).inFlight.p === 0, 5000, 'in-flight exchange to end');
    await new Promise((r) => setTimeout(r, 500));
    const after = await upstreamSeen(up);
    expect(after.maxInFlight.p).toBe(1);
    expect(after.seen.filter((s) => s.includes('tag=p')).length).toBeLessThanOrEqual(atClose + 1);
    expect(after.seen.filter((s) => s.includes('tag=p')).length).toBeLessThan(100);
  });

  it('releases every exchange when a client that never reads disconnects, and logs the unanswered ones as 499', async () => {
    const up = await startUpstream();
    const log = join(tempDir('ndcpl-'), 'access.log');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--access-log', log, '--buffer-size', '64k']);
    expect((await request({ url: proxy.http, path: '/' })).status).toBe(200);
    const baseline = fdCount(proxy.proc.pid);
    const client = pipeline(proxy.port, 'GET /big?bytes=1048576 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(300));
    client.socket.pause();
    // The first exchange is under way (its body spilling to a temp file behind the unread socket).
    await until(async () => (await upstreamSeen(up)).seen.some((s) => s.startsWith('GET /big')), 5000, 'first /big upstream');
    client.socket.destroy();
    await until(() => fdCount(proxy.proc.pid) <= baseline, 5000, 'fds back to baseline');
    // Every request the proxy parsed has a line: all it read when the payload came in one segment,
    // at least its queue's worth when back-pressure left the rest unread in the kernel.
    let previous = -1;
    const lines = await until(() => {
      const big = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('GET /big'));
      if (process.env.PL_DEBUG) console.log('lines', big.length);
      const stable = big.length === previous && big.length > PIPELINE_DEPTH;
      previous = big.length;
      return stable ? big : null;
    }, 5000, 'the access log to take every parsed request');
    const codes = lines.map((l) => Number(/" (\d{3}) /.exec(l)?.[1]));
    expect(codes.every((c) => c === 200 || c === 499)).toBe(true);
    expect(codes.filter((c) => c === 499).length).toBeGreaterThanOrEqual(lines.length - 10);
    // Nothing queued ran upstream after the disconnect.
    expect((await upstreamSeen(up)).seen.filter((s) => s.startsWith('GET /big')).length).toBeLessThanOrEqual(10);
  });
});
