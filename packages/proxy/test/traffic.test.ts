import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { request, runCleanups, until, type HttpResult } from '@nodicorn/testkit';
import { rawExchange, startProxy, startUpstream, upstreamSeen, type RunningProxy, type Upstream } from './helpers.js';

afterEach(runCleanups);

const USERS = `# staff
alice:${bcrypt.hashSync('wonderland', 4).replace(/^\$2b\$/, '$2y$')}
bob:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/
`;

/** The upstream on `app` and a proxy whose config file holds `routes`, plus the users file beside it. */
async function proxyWith(routes: object[], args: string[] = []): Promise<{ proxy: RunningProxy; up: Upstream }> {
  const up = await startUpstream();
  writeFileSync(join(up.dir, 'users'), USERS);
  writeFileSync(join(up.dir, 'proxy.json'), JSON.stringify({ upstreams: { app: [`unix:${up.socket}`] }, routes: [...routes, { prefix: '/', upstream: 'app' }] }));
  const proxy = await startProxy(['--config', 'proxy.json', '--listen', 'http://127.0.0.1:0', ...args], { cwd: up.dir });
  return { proxy, up };
}

const get = (proxy: RunningProxy, path: string, headers: Record<string, string> = {}) => request({ url: proxy.http, path }, { headers });
const count = (results: HttpResult[], status: number) => results.filter((r) => r.status === status).length;
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;

describe('limitReq (nginx limit_req)', () => {
  it('5r/s burst 0: of 20 rapid requests about one per 200 ms passes, the rest get 503, logged with the status', async () => {
    const { proxy } = await proxyWith([{ prefix: '/rate', upstream: 'app', limitReq: { rate: '5r/s' } }]);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => get(proxy, '/rate')));
    const elapsed = performance.now() - t0;
    const passed = count(results, 200);
    expect(passed + count(results, 503)).toBe(20);
    expect(passed).toBeGreaterThanOrEqual(1);
    // One at once, then one per 200 ms of the time the 20 took to arrive (and one for rounding).
    expect(passed).toBeLessThanOrEqual(2 + Math.floor(elapsed / 200));
    expect(results.find((r) => r.status === 503)!.body).toContain('<h1>503 Service Unavailable</h1>');
    await proxy.proc.waitFor(/"GET \/rate HTTP\/1\.1" 503 \d+/);
    await proxy.proc.waitFor(/limiting requests, excess: \d\.\d{3} by route \/rate, client: 127\.0\.0\.1/);
    // Other routes are not limited.
    expect(count(await Promise.all(Array.from({ length: 5 }, () => get(proxy, '/other'))), 200)).toBe(5);
  });

  it('burst with nodelay passes the burst at once; without nodelay the burst is delayed to the rate', async () => {
    const { proxy } = await proxyWith([
      { prefix: '/nodelay', upstream: 'app', limitReq: { rate: '1r/s', burst: 5, nodelay: true, status: 429 } },
      { prefix: '/delayed', upstream: 'app', limitReq: { rate: '10r/s', burst: 5 } },
    ]);
    const t0 = performance.now();
    const fast = await Promise.all(Array.from({ length: 10 }, () => get(proxy, '/nodelay')));
    const fastMs = performance.now() - t0;
    // 1 + burst at once; at 1r/s at most one more drains in while the ten arrive.
    expect(count(fast, 200)).toBeGreaterThanOrEqual(6);
    expect(count(fast, 200)).toBeLessThanOrEqual(6 + Math.floor(fastMs / 1000));
    expect(count(fast, 429)).toBe(10 - count(fast, 200));

    const t1 = performance.now();
    const done: number[] = [];
    const slow = await Promise.all(Array.from({ length: 6 }, () => get(proxy, '/delayed').then((r) => (done.push(performance.now() - t1), r))));
    expect(count(slow, 200)).toBe(6);
    // The fifth in the queue waits 5 x 100 ms; the loaded machine only makes it later, never sooner.
    expect(Math.max(...done)).toBeGreaterThanOrEqual(450);
    expect(Math.max(...done)).toBeLessThan(5000);
    expect(Math.min(...done)).toBeLessThan(Math.max(...done) - 300);
  });

  it('keyed by a header: each key has its own bucket, a request without the header is not counted', async () => {
    const { proxy } = await proxyWith([{ prefix: '/keyed', upstream: 'app', limitReq: { rate: '1r/m', key: 'header:X-Api-Key', status: 429 } }]);
    expect((await get(proxy, '/keyed', { 'x-api-key': 'A' })).status).toBe(200);
    expect((await get(proxy, '/keyed', { 'x-api-key': 'A' })).status).toBe(429);
    expect((await get(proxy, '/keyed', { 'x-api-key': 'B' })).status).toBe(200);
    expect(count(await Promise.all([1, 2, 3].map(() => get(proxy, '/keyed'))), 200)).toBe(3);
  });
});

describe('limitConn (nginx limit_conn)', () => {
  it('caps requests in progress per client; a finished one frees its place', async () => {
    const { proxy, up } = await proxyWith([{ prefix: '/slow', upstream: 'app', limitConn: { max: 2, status: 429 } }]);
    const slow = Array.from({ length: 2 }, () => get(proxy, '/slow?ms=3000&tag=held'));
    // Both in progress upstream before the others arrive.
    await until(async () => (await upstreamSeen(up)).inFlight.held === 2, 10_000, 'two slow requests upstream');
    const extra = await Promise.all([get(proxy, '/slow?ms=10'), get(proxy, '/slow?ms=10')]);
    const first = await Promise.all(slow);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    expect(extra.map((r) => r.status)).toEqual([429, 429]);
    expect((await get(proxy, '/slow?ms=10')).status).toBe(200);
    await proxy.proc.waitFor(/"GET \/slow\?ms=10 HTTP\/1\.1" 429/);
  });
});

describe('allow / deny (nginx access)', () => {
  it('denies with 403 and the error page, by IPv4 and IPv6 address, for requests and WebSocket upgrades alike', async () => {
    const { proxy } = await proxyWith(
      [
        { prefix: '/private', upstream: 'app', allow: ['10.0.0.0/8'], deny: ['all'] },
        { prefix: '/local', upstream: 'app', access: [{ deny: '127.0.0.2' }, { allow: ['127.0.0.0/8', '::1'] }, { deny: 'all' }] },
        { prefix: '/no-v6', upstream: 'app', deny: ['::1'] },
      ],
      ['--listen', 'http://[::1]:0'],
    );
    const v6 = /Listening at: (http:\/\/\[::1\]:\d+)/.exec(proxy.proc.output())![1]!;
    const denied = await get(proxy, '/private/x');
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('<h1>403 Forbidden</h1>');
    expect(JSON.stringify(denied.headers)).not.toContain('pid');
    await proxy.proc.waitFor(/access forbidden by rule, route \/private, client: 127\.0\.0\.1/);
    await proxy.proc.waitFor(/"GET \/private\/x HTTP\/1\.1" 403/);
    expect((await get(proxy, '/local/x')).status).toBe(200);
    expect((await request({ url: v6, path: '/local/x' })).status).toBe(200);
    expect((await request({ url: v6, path: '/no-v6' })).status).toBe(403);
    expect((await get(proxy, '/no-v6')).status).toBe(200);
    // The deny holds for an upgrade too: no tunnel around the rule.
    const ws = new WebSocket(`${proxy.http.replace('http', 'ws')}/private/socket`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
  });

  it('attack: a client that is not a trusted proxy cannot get past a deny by sending X-Forwarded-For', async () => {
    const { proxy } = await proxyWith([{ prefix: '/private', upstream: 'app', allow: ['10.0.0.0/8'], deny: ['all'] }]);
    for (const xff of ['10.0.0.1', '10.0.0.1, 10.0.0.2', '::ffff:10.0.0.1']) {
      expect((await get(proxy, '/private', { 'x-forwarded-for': xff, 'x-real-ip': '10.0.0.1' })).status).toBe(403);
    }
    // A raw request with two X-Forwarded-For fields is no different.
    const raw = await rawExchange(proxy.port, 'GET /private HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\nConnection: close\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 403/);
  });

  it('behind a trusted proxy the client is the last untrusted X-Forwarded-For address (nginx real_ip_recursive)', async () => {
    const { proxy } = await proxyWith([{ prefix: '/private', upstream: 'app', allow: ['10.0.0.0/8'], deny: ['all'] }], ['--trusted-proxies', '127.0.0.0/8']);
    expect((await get(proxy, '/private', { 'x-forwarded-for': '10.0.0.1' })).status).toBe(200);
    // The trusted proxy appended the real client after whatever that client claimed.
    expect((await get(proxy, '/private', { 'x-forwarded-for': '10.0.0.1, 203.0.113.5' })).status).toBe(403);
    expect((await get(proxy, '/private', { 'x-forwarded-for': 'garbage' })).status).toBe(403);
  });
});

describe('auth (nginx auth_basic)', () => {
  it('401 with the challenge until the right user and password; bcrypt and apr1 entries; Authorization forwarded as nginx does', async () => {
    const { proxy } = await proxyWith([
      { prefix: '/staff', upstream: 'app', auth: { file: 'users', realm: 'Staff only' } },
      { prefix: '/strip', upstream: 'app', auth: { file: 'users', forward: false } },
    ]);
    const none = await get(proxy, '/staff');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="Staff only", charset="UTF-8"');
    expect(none.body).toContain('<h1>401 Unauthorized</h1>');
    const ok = await get(proxy, '/staff', { authorization: basic('alice:wonderland') });
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.body) as { headers: Record<string, string> }).headers.authorization).toBe(basic('alice:wonderland'));
    expect((await get(proxy, '/staff', { authorization: basic('bob:secret') })).status).toBe(200);
    const stripped = await get(proxy, '/strip', { authorization: basic('bob:secret') });
    expect(stripped.status).toBe(200);
    expect((JSON.parse(stripped.body) as { headers: Record<string, string> }).headers).not.toHaveProperty('authorization');
    await proxy.proc.waitFor(/"GET \/staff HTTP\/1\.1" 401/);
  });

  it('HUP re-reads the htpasswd file; one that breaks is reported and the running users kept', async () => {
    const { proxy, up } = await proxyWith([{ prefix: '/staff', upstream: 'app', auth: 'users' }]);
    expect((await get(proxy, '/staff', { authorization: basic('carol:tea') })).status).toBe(401);
    writeFileSync(join(up.dir, 'users'), `${USERS}carol:{SHA}${createHash('sha1').update('tea').digest('base64')}\n`);
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reloaded configuration/);
    expect((await get(proxy, '/staff', { authorization: basic('carol:tea') })).status).toBe(200);
    writeFileSync(join(up.dir, 'users'), 'carol:$6$salt$hash\n');
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reload failed, keeping the running configuration: .*routes\[0\]\.auth .*users line 1 \(user "carol"\): crypt\(3\)/);
    expect((await get(proxy, '/staff', { authorization: basic('alice:wonderland') })).status).toBe(200);
  });

  it('attack: wrong passwords, unknown users, malformed credentials and an oversized header never pass', async () => {
    const { proxy, up } = await proxyWith([{ prefix: '/staff', upstream: 'app', auth: 'users' }]);
    const before = (await upstreamSeen(up)).count;
    for (const authorization of [
      basic('alice:Wonderland'),
      basic('alice:wonderland '),
      basic('alice:'),
      basic('mallory:wonderland'),
      basic(':wonderland'),
      basic('alice'),
      'Basic !!!not-base64!!!',
      'Basic YWxpY2U6d29uZGVybGFuZA', // alice:wonderland without its padding
      `Bearer ${Buffer.from('alice:wonderland').toString('base64')}`,
      'Basic',
    ]) {
      const res = await get(proxy, '/staff', { authorization });
      expect(res.status, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Restricted", charset="UTF-8"');
    }
    await proxy.proc.waitFor(/user "mallory" was not found or its password mismatched/);
    const huge = await rawExchange(proxy.port, `GET /staff HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${'A'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    // None of them reached the app.
    expect((await upstreamSeen(up)).count).toBe(before + 1);
  });
});
