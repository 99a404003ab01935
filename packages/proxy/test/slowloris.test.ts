import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, until } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

const TRICKLERS = 300;

describe('slowloris', () => {
  it('hundreds of trickling connections neither block normal requests nor live past the header timeout', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--client-header-timeout', '2']);
    const sockets: net.Socket[] = [];
    let closed = 0;
    const opened = Array.from({ length: TRICKLERS }, () =>
      new Promise<void>((resolve) => {
        const s = net.connect(proxy.port, '127.0.0.1', () => {
          s.write('GET / HTTP/1.1\r\nHost: x\r\n');
          resolve();
        });
        s.on('error', () => {});
        s.on('close', () => closed++);
        sockets.push(s);
      }),
    );
    await Promise.all(opened);
    // Each trickler sends one more header byte every 250 ms, never finishing its headers.
    const trickle = setInterval(() => sockets.forEach((s) => s.writable && s.write('X')), 250);
    try {
      for (let i = 0; i < 20; i++) {
        const started = Date.now();
        const res = await request({ url: proxy.http, path: `/ok-${i}` }, { timeoutMs: 3000 });
        expect(res.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(3000);
      }
      // client_header_timeout closes every trickler (checked once a second), bounding what they hold.
      await until(() => closed === TRICKLERS, 10_000, 'all trickling connections closed by the proxy').catch((err: Error) => {
        throw new Error(`${err.message}; closed ${closed} of ${TRICKLERS}`);
      });
    } finally {
      clearInterval(trickle);
      sockets.forEach((s) => s.destroy());
    }
    expect((await request({ url: proxy.http, path: '/' })).status).toBe(200);
  });
});
