import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, tempDir } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

const json = (body: string) => JSON.parse(body) as { headers: Record<string, string>; size: number; url: string; count: number; seen: string[] };

describe('forwarding to a nodicorn server over a Unix socket', () => {
  it('writes X-Forwarded-* and X-Real-IP over client values, drops underscore and hop-by-hop headers both ways', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const res = await request(
      { url: proxy.http, path: '/echo?q=1' },
      { headers: { 'X-Forwarded-For': '6.6.6.6', 'X-Real-IP': '6.6.6.6', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'evil', X_Auth_User: 'admin', 'Proxy-Connection': 'keep-alive', TE: 'trailers', Connection: 'close, x-drop-me', 'x-drop-me': '1', 'x-kept': 'ok' } },
    );
    expect(res.status).toBe(200);
    const seen = json(res.body).headers;
    expect(json(res.body).url).toBe('/echo?q=1');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-real-ip']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe(new URL(proxy.http).host);
    expect(seen['x-kept']).toBe('ok');
    for (const gone of ['x_auth_user', 'proxy-connection', 'te', 'x-drop-me']) expect(seen).not.toHaveProperty(gone);

    const hop = await request({ url: proxy.http, path: '/hop' });
    expect(hop.headers['x-app']).toBe('yes');
    expect(hop.headers['keep-alive']).not.toBe('timeout=99');
    expect(hop.headers).not.toHaveProperty('x-secret');
    await proxy.proc.waitFor(/"GET \/echo\?q=1 HTTP\/1\.1" 200 \d+ "-" "-" rt=[\d.]+ uaddr="unix:[^"]+" us="200" ut="[\d.]+"/);
  });

  it('appends the peer to X-Forwarded-For only when the peer is a trusted proxy', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--trusted-proxies', '127.0.0.0/8']);
    const res = await request({ url: proxy.http, path: '/' }, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(json(res.body).headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
  });

  it('answers 413 for a body over --max-body: declared, chunked, and before 100-continue', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--max-body', '1k']);
    expect((await request({ url: proxy.http, path: '/' }, { method: 'POST', body: Buffer.alloc(1024) })).status).toBe(200);
    expect((await request({ url: proxy.http, path: '/' }, { method: 'POST', body: Buffer.alloc(1025) })).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${proxy.http}/`, { method: 'POST', agent: false }, (res) => resolve(res.statusCode!));
      req.on('error', reject);
      req.write(Buffer.alloc(800));
      req.end(Buffer.alloc(800));
    });
    expect(chunked).toBe(413);
    const expectContinue = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = http.request(`${proxy.http}/`, { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': 5000 } }, (res) => resolve({ status: res.statusCode!, continued }));
      req.on('continue', () => (continued = true));
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(expectContinue).toEqual({ status: 413, continued: false });
    const count = json((await request({ url: proxy.http, path: '/count' })).body);
    expect(count.seen.filter((s) => s.startsWith('POST'))).toHaveLength(1);
  });

  it('buffers a request body larger than memory through a temp file and forwards it whole', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--buffer-size', '16k', '--max-body', '2m']);
    const res = await request({ url: proxy.http, path: '/' }, { method: 'PUT', body: Buffer.alloc(1024 * 1024 + 7, 1) });
    expect(json(res.body).size).toBe(1024 * 1024 + 7);
    const big = await request({ url: proxy.http, path: '/big?bytes=3000000' });
    expect(big.body.length).toBe(3_000_000);
  });

  it('streams bodies both ways with --request-buffering off and --proxy-buffering off', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--request-buffering', 'off', '--proxy-buffering', 'off', '--max-body', '2m']);
    const res = await request({ url: proxy.http, path: '/' }, { method: 'POST', body: Buffer.alloc(1024 * 1024 + 3, 1) });
    expect(json(res.body).size).toBe(1024 * 1024 + 3);
    expect((await request({ url: proxy.http, path: '/big?bytes=2000000' })).body.length).toBe(2_000_000);
    expect((await request({ url: proxy.http, path: '/' }, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024 + 1) })).status).toBe(413);
  });

  it('keeps the client connection open when the upstream says Connection: close', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        http.get(`${proxy.http}/close`, { agent }, (res) => {
          sockets.add(res.socket);
          expect(res.headers.connection).toBe('keep-alive');
          res.resume().on('end', resolve);
        }).on('error', reject);
      });
    }
    agent.destroy();
    expect(sockets.size).toBe(1);
  });

  it('answers 502 with a clean page when the upstream is down, and stays up', async () => {
    const dir = tempDir('ndcpx-');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${dir}/missing.sock`]);
    for (let i = 0; i < 3; i++) {
      const res = await request({ url: proxy.http, path: '/' });
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body).toContain('502 Bad Gateway');
      expect(res.body).not.toMatch(/ENOENT|Error|at /);
    }
  });

  it('answers 504 when the upstream is slower than --upstream-timeout', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--upstream-timeout', '0.5']);
    const res = await request({ url: proxy.http, path: '/slow?ms=3000' });
    expect(res.status).toBe(504);
    expect(res.body).toContain('504 Gateway Time-out'.replace('Time-out', 'Timeout'));
  });

  it('retries an idempotent request on the next server when one refuses, and marks it down', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.dir}/dead.sock`, '--upstream', `unix:${up.socket}`]);
    for (let i = 0; i < 4; i++) expect((await request({ url: proxy.http, path: '/' })).status).toBe(200);
    // A POST is not idempotent: it is never moved to another server after a failure.
    const posts = await Promise.all([0, 1].map(() => request({ url: proxy.http, path: '/' }, { method: 'POST', body: 'x' })));
    expect(posts.every((p) => p.status === 200)).toBe(true);
    // max_fails=1: the dead server was tried once, then skipped for fail_timeout.
    expect(proxy.proc.output().match(/uaddr="unix:[^"]*dead\.sock/g)?.length).toBe(1);
  });

  it('streams without buffering for X-Accel-Buffering: no and text/event-stream', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    for (const path of ['/sse?ms=3000', '/nobuf?ms=3000']) {
      const first = await new Promise<{ chunk: string; accel: unknown }>((resolve, reject) => {
        http.get(`${proxy.http}${path}`, { agent: false }, (res) => {
          res.once('data', (c: Buffer) => {
            resolve({ chunk: c.toString(), accel: res.headers['x-accel-buffering'] });
            res.destroy();
          });
        }).on('error', reject);
      });
      // The first event arrives while the upstream is still holding the response open.
      expect(first.chunk).toContain('data: first');
      expect(first.accel).toBeUndefined();
    }
    await proxy.proc.waitFor(/"GET \/sse\?ms=3000 HTTP\/1\.1" 499 /);
  });

  it('answers 431 to more header fields than --max-headers', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--max-headers', '20']);
    const headers = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-h${i}`, String(i)]));
    expect((await request({ url: proxy.http, path: '/' }, { headers })).status).toBe(431);
    expect((await request({ url: proxy.http, path: '/' })).status).toBe(200);
  });
});
