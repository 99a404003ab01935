import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request, runCleanups, tempDir, until } from '@nodicorn/testkit';
import { plainUpstream, rawExchange, startProxy, startUpstream, statuses } from './helpers.js';

afterEach(runCleanups);

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

const next = (ws: WebSocket) => new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));

describe('WebSocket upgrades', () => {
  it('forwards the handshake and echoes messages both ways', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const ws = await open(`${proxy.http.replace('http', 'ws')}/chat`);
    for (const text of ['hello', 'again']) {
      const reply = next(ws);
      ws.send(text);
      expect(await reply).toBe(`echo:${text}:127.0.0.1`);
    }
    const big = Buffer.alloc(200_000, 7);
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (m) => resolve(m as Buffer)));
    ws.send(big);
    expect((await echoed).equals(big)).toBe(true);
    ws.close();
  });

  it('closes an idle tunnel after --websocket-timeout', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--websocket-timeout', '1']);
    const ws = await open(`${proxy.http.replace('http', 'ws')}/`);
    const closed = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(closed).toBe(1006);
  });

  it('refuses non-WebSocket upgrades and survives an upstream that is down', async () => {
    const dir = tempDir('ndcpx-');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${dir}/gone.sock`]);
    const h2c = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    expect(statuses(h2c)).toEqual([400]);
    await expect(open(`${proxy.http.replace('http', 'ws')}/`)).rejects.toThrow(/502/);
    // Garbage after a handshake, and a client that vanishes mid-handshake, must not crash the proxy.
    await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x00\xff garbage', 300);
    expect((await request({ url: proxy.http, path: '/' })).status).toBe(502);
    expect(proxy.proc.output()).not.toMatch(/Error|at /);
  });
});

const HANDSHAKE = 'GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

describe('WebSocket upgrades under attack (issue 11 items 4, 7, 12)', () => {
  it('opens no tunnel unless the upstream answers 101: a request smuggled behind the handshake never reaches it', async () => {
    const up = await plainUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const smuggled = 'GET /smuggled-ws HTTP/1.1\r\nHost: internal\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n';
    // The smuggled request in the same segment as the handshake (head bytes), and again later.
    const socket = net.connect(proxy.port, '127.0.0.1');
    let reply = '';
    socket.on('data', (c: Buffer) => (reply += c.toString('latin1')));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(`${HANDSHAKE}\r\n${smuggled}`);
    await until(() => reply.includes('\r\n\r\nok'), 5000, 'the relayed 200');
    if (!socket.destroyed) socket.write(smuggled);
    await closed;
    expect(statuses(reply)).toEqual([200]);
    expect(up.received()).toMatch(/^GET \/chat HTTP\/1\.1\r\n/);
    expect(up.received()).not.toContain('smuggled-ws');
  });

  it('refuses a duplicate or invalid Host on an upgrade, and redirects an upgrade on the http listener with --redirect-https', async () => {
    const up = await startUpstream();
    const dir = tempDir('ndcpw-');
    const proxy = await startProxy([
      '--listen', 'http://127.0.0.1:0', '--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`,
      '--state-dir', join(dir, 'state'), '--redirect-https', '--server-name', 'app.test',
    ]);
    const dup = await rawExchange(proxy.port, HANDSHAKE.replace('Host: x\r\n', 'Host: a.example\r\nHost: b.example\r\n') + '\r\n', 700);
    expect(statuses(dup)).toEqual([400]);
    const bad = await rawExchange(proxy.port, HANDSHAKE.replace('Host: x', 'Host: evil/../x') + '\r\n', 700);
    expect(statuses(bad)).toEqual([400]);
    const redirect = await rawExchange(proxy.port, `${HANDSHAKE}\r\n`, 700);
    expect(statuses(redirect)).toEqual([308]);
    expect(redirect).toMatch(new RegExp(`\\r\\nlocation: https://app\\.test:${new URL(proxy.https).port}/chat\\r\\n`));
    const seen = JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as { count: number };
    expect(seen.count).toBe(1);
  });

  it('applies the static-mount routing rule to upgrades: a traversal out of a mount never reaches the upstream', async () => {
    const up = await startUpstream();
    const root = tempDir('ndcpw-');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--static', `/assets=${root}`]);
    const raw = await rawExchange(proxy.port, `${HANDSHAKE.replace('/chat', '/assets/..%2fchat')}\r\n`, 700);
    expect(statuses(raw)).toEqual([404]);
    const seen = JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as { count: number };
    expect(seen.count).toBe(1);
  });
});
