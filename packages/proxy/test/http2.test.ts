import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { onCleanup, runCleanups, tempDir, until } from '@nodicorn/testkit';
import { connect, h2, startProxy, startUpstream, upstreamSeen, type H2Result, type Upstream } from './helpers.js';

afterEach(runCleanups);

const has = (tool: string, args: string[], pattern: RegExp) => {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return r.status === 0 && pattern.test(r.stdout + r.stderr);
};
const CURL_H2 = has('curl', ['--version'], /Features:.*\bHTTP2\b/);
const NGHTTP = has('nghttp', ['--version'], /nghttp/);
const H2LOAD = has('h2load', ['--version'], /h2load/);

function run(tool: string, args: string[], timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool, args, { timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${tool} failed: ${err.message}\n${stdout}${stderr}`)) : resolve(stdout + stderr)));
  });
}

const json = (r: H2Result) => JSON.parse(r.body.toString()) as { method: string; url: string; headers: Record<string, string>; size: number };

async function stack(extra: string[] = []): Promise<{ up: Upstream; url: string; port: number; proc: Awaited<ReturnType<typeof startProxy>>['proc'] }> {
  const up = await startUpstream();
  const proxy = await startProxy(['--listen', 'https://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--state-dir', join(up.dir, 'state'), ...extra]);
  return { up, url: proxy.https, port: Number(new URL(proxy.https).port), proc: proxy.proc };
}

describe('HTTP/2 on https listeners', () => {
  it('forwards h2 requests upstream as HTTP/1.1: :authority becomes Host, no pseudo-headers, no connection-specific fields back, logged as HTTP/2.0', async () => {
    const files = join(tempDir('ndch2-'), 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'hello.txt'), 'hello over h2\n');
    const { url, proc, up } = await stack(['--static', `/files=${files}`]);
    const session = connect(url);
    const res = await h2(session, { ':path': '/echo?x=1', cookie: ['a=1', 'b=2'], 'x-forwarded-for': '6.6.6.6' });
    expect(res.status).toBe(200);
    const seen = json(res);
    expect(seen.url).toBe('/echo?x=1');
    expect(seen.headers.host).toBe(new URL(url).host);
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(url).host);
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.cookie).toBe('a=1; b=2');
    expect(Object.keys(seen.headers).filter((k) => k.startsWith(':'))).toEqual([]);

    // The upstream sends Keep-Alive and Connection: x-secret; neither (nor what Connection names) reaches an h2 client.
    const hop = await h2(session, { ':path': '/hop' });
    expect(hop.status).toBe(200);
    expect(hop.headers['x-app']).toBe('yes');
    for (const field of ['connection', 'keep-alive', 'x-secret', 'transfer-encoding', 'upgrade', 'proxy-connection']) expect(hop.headers[field]).toBeUndefined();

    const file = await h2(session, { ':path': '/files/hello.txt' });
    expect([file.status, file.body.toString()]).toEqual([200, 'hello over h2\n']);

    const trace = await h2(session, { ':path': '/x', ':method': 'TRACE' });
    expect(trace.status).toBe(405);
    // No RFC 8441 extended CONNECT, and no tunnels: node:http2 answers CONNECT itself.
    const tunnel = await h2(session, { ':method': 'CONNECT', ':authority': 'example.com:443' }, Buffer.alloc(0));
    expect(tunnel.status).toBe(405);

    await proc.waitFor(/"GET \/echo\?x=1 HTTP\/2\.0" 200 /);
    await proc.waitFor(/"GET \/files\/hello\.txt HTTP\/2\.0" 200 /);
    expect((await upstreamSeen(up)).seen).toContain('GET /hop');
  });

  it('streams 5 MB bodies both ways, buffered and unbuffered', async () => {
    for (const buffering of ['on', 'off']) {
      const { url } = await stack(['--max-body', '10m', '--request-buffering', buffering]);
      const session = connect(url);
      const body = Buffer.alloc(5 * 1024 * 1024, 120);
      const posted = await h2(session, { ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream' }, body);
      expect(posted.status).toBe(200);
      expect(json(posted)).toMatchObject({ method: 'POST', size: body.length });
      // No Content-Length from the client: the body is known by END_STREAM, not by a length field.
      const big = await h2(session, { ':path': `/big?bytes=${5 * 1024 * 1024}` });
      expect(big.status).toBe(200);
      expect(big.body.length).toBe(5 * 1024 * 1024);
      expect(big.body.every((b) => b === 97)).toBe(true);
    }
  });

  it('serves a small static file again from the in-memory cache over h2 (the cached headers hold no :status)', async () => {
    const dir = tempDir('ndcpx-');
    writeFileSync(join(dir, 'a.txt'), 'hello');
    const { url } = await stack(['--static', `/files=${dir}`]);
    const session = connect(url);
    // The second request lands within the cache's 1 s validity.
    for (let i = 0; i < 3; i++) {
      const r = await h2(session, { ':path': '/files/a.txt' });
      expect([r.status, r.body.toString()]).toEqual([200, 'hello']);
    }
  });

  it('refuses a body over --max-body with 413 on its stream only', async () => {
    const { url } = await stack(['--max-body', '1k']);
    const session = connect(url);
    const refused = await h2(session, { ':method': 'POST', ':path': '/upload' }, Buffer.alloc(64 * 1024, 1));
    expect(refused.status).toBe(413);
    expect(refused.headers.connection).toBeUndefined();
    expect((await h2(session, { ':path': '/after' })).status).toBe(200);
  });

  it.skipIf(!CURL_H2)('answers curl --http2 with HTTP/2 200', async () => {
    const { url } = await stack();
    const out = await run('curl', ['--http2', '-k', '-sS', '-i', `${url}/curl`]);
    expect(out).toMatch(/^HTTP\/2 200/);
  });

  it.skipIf(!NGHTTP)('works with nghttp -nv', async () => {
    const { url } = await stack();
    const out = await run('nghttp', ['-nv', `${url}/nghttp`]);
    expect(out).toMatch(/recv \(stream_id=\d+\) :status: 200/);
    expect(out).toMatch(/END_STREAM/);
  });

  it.skipIf(!H2LOAD)('serves h2load -n 1000 -c 10 -m 10 with no errors', async () => {
    const { url } = await stack();
    const out = await run('h2load', ['-n', '1000', '-c', '10', '-m', '10', `${url}/load`], 120_000);
    expect(out).toMatch(/requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored, 0 timeout/);
    expect(out).toMatch(/status codes: 1000 2xx/);
  });

  it('still serves HTTP/1.1 clients and WebSocket upgrades on the same port', async () => {
    const { url, port } = await stack();
    const h1 = await new Promise<{ status: number; alpn: string | false | null; body: string }>((resolve, reject) => {
      https
        .get(`${url}/h1`, { rejectUnauthorized: false, agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, alpn: (res.socket as tls.TLSSocket).alpnProtocol, body }));
        })
        .on('error', reject);
    });
    expect(h1.status).toBe(200);
    expect(h1.alpn).toBe('http/1.1');
    expect(JSON.parse(h1.body).headers['x-forwarded-proto']).toBe('https');

    const ws = new WebSocket(`wss://127.0.0.1:${port}/chat`, { rejectUnauthorized: false });
    onCleanup(() => ws.terminate());
    await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
    const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
    ws.send('over tls');
    expect(await reply).toBe('echo:over tls:127.0.0.1');
  });

  it('with --http-protocols http/1.1, a client offering h2 negotiates http/1.1', async () => {
    const { port, url } = await stack(['--http-protocols', 'http/1.1']);
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false }, () => {
        resolve(socket.alpnProtocol);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(alpn).toBe('http/1.1');
    if (CURL_H2) expect(await run('curl', ['--http2', '-k', '-sS', '-i', `${url}/x`])).toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes a connection that opens and cancels streams in a loop (rapid reset, CVE-2023-44487) and stays healthy for others', async () => {
    const { url, proc } = await stack();
    const attacker = connect(url);
    await new Promise<void>((resolve) => attacker.once('connect', () => resolve()));
    const goaways: number[] = [];
    attacker.on('goaway', (code) => goaways.push(code));
    const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
    let opened = 0;
    // Thousands of open+cancel pairs, a burst per turn of the loop, until the proxy cuts us off.
    await new Promise<void>((resolve) => {
      const burst = () => {
        if (attacker.closed || attacker.destroyed || opened >= 5000) return resolve();
        for (let i = 0; i < 100; i++) {
          const stream = attacker.request({ ':path': `/slow?ms=5000&n=${opened++}` });
          stream.on('error', () => {});
          stream.close(http2.constants.NGHTTP2_CANCEL);
        }
        setImmediate(burst);
      };
      burst();
      void closed.then(resolve);
    });
    await closed;
    // A graceful GOAWAY (no new streams), then ENHANCE_YOUR_CALM saying why.
    expect(goaways).toContain(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await proc.waitFor(/rapid reset, CVE-2023-44487/);

    const other = connect(url);
    const res = await h2(other, { ':path': '/still-here' });
    expect(res.status).toBe(200);
    expect(json(res).url).toBe('/still-here');
  });

  it('sends GOAWAY on SIGTERM: an in-flight stream finishes, a new one is refused', async () => {
    const { url, proc, up, port } = await stack();
    const session = connect(url);
    const slow = h2(session, { ':path': '/slow?ms=1500&tag=g' });
    await until(async () => (await upstreamSeen(up)).inFlight.g === 1, 10_000, 'the slow request upstream');
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)));
    proc.signal('SIGTERM');
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    // After GOAWAY the session takes no new stream: Node's client refuses at once, or the proxy resets it.
    const refused = await new Promise<boolean>((resolve) => {
      try {
        const stream = session.request({ ':path': '/late' });
        stream.on('error', () => resolve(true));
        stream.on('response', () => resolve(false));
      } catch {
        resolve(true);
      }
    });
    expect(refused).toBe(true);
    const done = await slow;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body.toString())).toEqual({ slow: true });
    expect(await proc.exited()).toBe(0);
    // And the listener is gone: a new connection cannot be made.
    await expect(new Promise((resolve, reject) => tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, resolve).on('error', reject))).rejects.toThrow(/ECONNREFUSED/);
  });
});
