import http from 'node:http';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, onCleanup, request, runCleanups, startProcess, tempDir, until } from '@nodicorn/testkit';
import { startProxy } from './helpers.js';

afterEach(runCleanups);

/**
 * A named upstream server on a Unix socket in this test process, so the test can make it sick,
 * hold its requests or stop it. `/healthz` answers `health` (200 by default); `/hold` waits for
 * `release()`; everything else answers its name.
 */
interface TestServer {
  readonly name: string;
  readonly socket: string;
  health: number;
  /** Requests seen, health probes excluded. */
  served: number;
  probes: number;
  release(): void;
  stop(): Promise<void>;
}

async function testServer(dir: string, name: string): Promise<TestServer> {
  const socket = join(dir, `${name}.sock`);
  const held: http.ServerResponse[] = [];
  const self: TestServer = {
    name,
    socket,
    health: 200,
    served: 0,
    probes: 0,
    release: () => held.splice(0).forEach((res) => res.end(name)),
    stop: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
  const server = http.createServer((req, res) => {
    if (req.url === '/healthz') {
      self.probes++;
      res.writeHead(self.health).end();
      return;
    }
    self.served++;
    if (req.url === '/hold') return void held.push(res);
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(socket, r));
  onCleanup(() => self.stop());
  return self;
}

async function proxyFor(upstream: object, extra: string[] = []) {
  const dir = tempDir('ndcbal-');
  const config = join(dir, 'proxy.json');
  writeFileSync(config, JSON.stringify({ upstreams: { app: upstream }, routes: [{ prefix: '/', upstream: 'app' }] }));
  const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--config', config, '--access-log', 'off', ...extra]);
  const get = async (path = '/', headers: Record<string, string> = {}) => {
    const res = await request({ url: proxy.http, path }, { headers });
    return { status: res.status, body: res.body, headers: res.headers };
  };
  const names = async (n: number, headers: Record<string, string> = {}) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await get('/', headers)).body);
    return out.join(' ');
  };
  return { proxy, get, names };
}

describe('active health checks', () => {
  it('takes a failing server out after `fall` probes and brings it back after `rise`; it gets no request meanwhile', async () => {
    const dir = tempDir('ndcbal-');
    const [a, b] = [await testServer(dir, 'a'), await testServer(dir, 'b')];
    const { proxy, names } = await proxyFor({ servers: [`unix:${a.socket}`, `unix:${b.socket}`], healthCheck: { path: '/healthz', interval: '100ms', fall: 2, rise: 2 } });
    expect(await names(4)).toBe('a b a b');

    a.health = 503;
    await proxy.proc.waitFor(/upstream server unix:\S+a\.sock failed its health check \(GET \/healthz: status 503, expected 200-399\) 2 times; out of service/);
    const before = a.served;
    expect(await names(6)).toBe('b b b b b b');
    expect(a.served).toBe(before);

    a.health = 200;
    await proxy.proc.waitFor(/upstream server unix:\S+a\.sock passed its health check 2 times; back in service/);
    expect((await names(4)).split(' ').sort().join(' ')).toBe('a a b b');
  });

  it('answers 502 without trying a one-server upstream whose server stopped and fails its check', async () => {
    const dir = tempDir('ndcbal-');
    const a = await testServer(dir, 'a');
    const { proxy, get } = await proxyFor({ servers: [`unix:${a.socket}`], healthCheck: { path: '/healthz', interval: '100ms' } });
    expect((await get()).body).toBe('a');
    await a.stop();
    // The socket gone (ENOENT), or a probe caught as it closed (socket hang up): either takes it out.
    await proxy.proc.waitFor(/upstream server unix:\S+a\.sock failed its health check \(GET \/healthz: [^)]+\) 1 time; out of service/);
    const res = await get();
    expect(res.status).toBe(502);
  });
});

describe('balancing methods', () => {
  it('least_conn sends to the server with fewer requests in flight, where round-robin alternates', async () => {
    const dir = tempDir('ndcbal-');
    const [a, b] = [await testServer(dir, 'a'), await testServer(dir, 'b')];
    const { proxy, names } = await proxyFor({ balance: 'least_conn', servers: [`unix:${a.socket}`, `unix:${b.socket}`] });
    // One request held on a: every quick one goes to b while it is in flight.
    const held = request({ url: proxy.http, path: '/hold' });
    await until(() => a.served + b.served === 1, 5000, 'the held request to arrive');
    const holder = a.served === 1 ? a : b;
    const other = holder === a ? 'b' : 'a';
    expect(await names(5)).toBe(Array(5).fill(other).join(' '));
    holder.release();
    expect((await held).body).toBe(holder.name);
  });

  it('spreads by weight, and sends to a backup only when every primary is gone', async () => {
    const dir = tempDir('ndcbal-');
    const [a, b, spare] = [await testServer(dir, 'a'), await testServer(dir, 'b'), await testServer(dir, 'spare')];
    const { names } = await proxyFor({ servers: [`unix:${a.socket} weight=3`, `unix:${b.socket}`, `unix:${spare.socket} backup`] });
    expect(await names(8)).toBe('a a b a a a b a');
    await a.stop();
    await b.stop();
    // Connect failures move each request on to the next server, the backup last.
    expect(await names(3)).toBe('spare spare spare');
  });

  it('a sticky cookie keeps a client on the server that first answered it', async () => {
    const dir = tempDir('ndcbal-');
    const [a, b] = [await testServer(dir, 'a'), await testServer(dir, 'b')];
    const { get, names } = await proxyFor({ servers: [`unix:${a.socket}`, `unix:${b.socket}`], sticky: { cookie: 'srv_id', maxAge: 3600 } });
    const first = await get();
    const setCookie = String(first.headers['set-cookie']);
    expect(setCookie).toMatch(/^srv_id=[0-9a-f]{32}; Path=\/; HttpOnly; Max-Age=3600$/);
    const cookie = setCookie.split(';')[0]!;
    expect(await names(5, { cookie })).toBe(Array(5).fill(first.body).join(' '));
    const pinned = await get('/', { cookie });
    expect(pinned.headers['set-cookie']).toBeUndefined();
    // Without the cookie: round-robin, and a cookie for whichever server answers.
    expect((await names(2)).split(' ').sort().join(' ')).toBe('a b');
  });

  it('ip_hash keeps a client address (after trusted proxies) on one server and spreads others', async () => {
    const dir = tempDir('ndcbal-');
    const [a, b] = [await testServer(dir, 'a'), await testServer(dir, 'b')];
    const { names } = await proxyFor({ balance: 'ip_hash', servers: [`unix:${a.socket}`, `unix:${b.socket}`] }, ['--trusted-proxies', '127.0.0.1']);
    const one = await names(5, { 'x-forwarded-for': '198.51.100.7' });
    expect(new Set(one.split(' ')).size).toBe(1);
    // The same /24 hashes alike, as nginx's ip_hash.
    expect(await names(2, { 'x-forwarded-for': '198.51.100.250' })).toBe(one.split(' ').slice(0, 2).join(' '));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await names(1, { 'x-forwarded-for': `203.0.${i}.1` }));
    expect([...seen].sort()).toEqual(['a', 'b']);
  });
});

describe('upstream config errors', () => {
  it('refuses an unknown upstream key with the nearest name, exit 2', async () => {
    const dir = tempDir('ndcbal-');
    const config = join(dir, 'proxy.json');
    writeFileSync(config, JSON.stringify({ upstreams: { app: { servers: ['127.0.0.1:9'], healthCheck: { intervl: 5 } } }, routes: [{ prefix: '/', upstream: 'app' }] }));
    const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--listen', 'http://127.0.0.1:0', '--config', config]);
    expect(await proc.exited()).toBe(2);
    expect(proc.output()).toMatch(/Config file \S+proxy\.json: upstreams\.app\.healthCheck\.intervl is not a key of healthCheck; did you mean interval\?/);
    expect(proc.output()).not.toMatch(/\n\s+at /);
  });
});
