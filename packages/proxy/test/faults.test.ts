import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, cpuTicksPerSecond, freePort, NODICORN_BIN, request, runCleanups, running, startProcess, tempDir, until, type Proc } from '@nodicorn/testkit';
import { startProxy } from './helpers.js';

afterEach(runCleanups);

/**
 * A bare node:http upstream, so a fault is exactly the one the test asks for: `/spin` blocks for 1 s
 * and then SIGKILLs its own process (a worker killed at --timeout); `/cut-once?id=` destroys the
 * socket the first time it sees an id, as a crash or a stale keep-alive race would; anything else
 * answers with the pid and what was received.
 */
const FAULT_APP = `
import http from 'node:http';
const seen = new Set();
http.createServer((req, res) => {
  let size = 0;
  req.on('data', (c) => (size += c.length));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/spin') {
      console.log('spin');
      const end = Date.now() + 1000;
      while (Date.now() < end);
      process.kill(process.pid, 'SIGKILL');
    }
    if (url.pathname === '/cut-once') {
      const id = req.method + url.searchParams.get('id');
      console.log('got ' + id);
      if (!seen.has(id)) { seen.add(id); return req.socket.destroy(); }
    }
    res.end(JSON.stringify({ pid: process.pid, method: req.method, size }));
  });
}).listen(process.argv[2], () => console.log('ready ' + process.pid));
`;

async function upstreams(n: number): Promise<{ dir: string; procs: Proc[]; sockets: string[] }> {
  const dir = tempDir('ndcfl-');
  writeFileSync(join(dir, 'app.mjs'), FAULT_APP);
  const sockets = Array.from({ length: n }, (_, i) => join(dir, `u${i}.sock`));
  const procs = sockets.map((s) => startProcess(process.execPath, [join(dir, 'app.mjs'), s]));
  await Promise.all(procs.map((p) => p.waitFor(/ready \d+/)));
  return { dir, procs, sockets };
}

const proxyArgs = (sockets: readonly string[]) => ['--listen', 'http://127.0.0.1:0', ...sockets.flatMap((s) => ['--upstream', `unix:${s}`])];

describe('a request that kills its upstream is not retried (issue 12 point 4)', () => {
  it('one /spin with two upstreams costs one upstream and answers 502, and the log names why', async () => {
    const up = await upstreams(2);
    const proxy = await startProxy(proxyArgs(up.sockets));
    const res = await request({ url: proxy.http, path: '/spin' });
    expect(res.status).toBe(502);
    const exits = await Promise.all(up.procs.map((p) => Promise.race([p.exited(), new Promise<null>((r) => setTimeout(() => r(null), 300))])));
    expect(exits.filter((e) => e !== null)).toHaveLength(1);
    expect(up.procs.map((p) => (p.output().match(/spin/g) ?? []).length).reduce((a, b) => a + b)).toBe(1);
    expect(proxy.proc.output()).toMatch(/\[ERROR\] upstream unix:\S+ failed \(UND_ERR_SOCKET: other side closed\) on try 1, request: "GET \/spin HTTP\/1\.1", client: 127\.0\.0\.1; not retried: upstream closed after \d{4} ms; answered 502/);
  });

  it('a connection cut right after the request: GET is retried once and succeeds, POST with a body is not', async () => {
    const up = await upstreams(1);
    const proxy = await startProxy(proxyArgs(up.sockets));
    const get = await request({ url: proxy.http, path: '/cut-once?id=1' });
    expect(get.status).toBe(200);
    // The upstream's stdout reaches the test through a pipe, after its answer may have: wait for the line.
    const seen = (line: RegExp) => up.procs[0]!.output().match(line)?.length ?? 0;
    await until(() => seen(/got GET1/g) === 2, 5000, 'the upstream to log both tries');
    expect(proxy.proc.output()).toMatch(/"GET \/cut-once\?id=1 HTTP\/1\.1".*; retrying once on a fresh connection: upstream closed after \d{1,3} ms/);
    const post = await request({ url: proxy.http, path: '/cut-once?id=2' }, { method: 'POST', body: 'x'.repeat(100) });
    expect(post.status).toBe(502);
    await up.procs[0]!.waitFor(/got POST2/);
    // Not retried: a second try would have been logged before the 502 went out.
    await request({ url: proxy.http, path: '/after' });
    expect(seen(/got POST2/g)).toBe(1);
    expect(proxy.proc.output()).toMatch(/"POST \/cut-once\?id=2 HTTP\/1\.1".*; not retried: POST is not idempotent; answered 502/);
  });

  it('kill -9 of one of two upstreams under GET load fails no GET', async () => {
    const up = await upstreams(2);
    const proxy = await startProxy(proxyArgs(up.sockets));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const get = () =>
      new Promise<number>((resolve) => {
        http
          .get(`${proxy.http}/x`, { agent }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)))
          .on('error', () => resolve(0));
      });
    let done = 0;
    const failed: number[] = [];
    const loop = async () => {
      while (done < 600) {
        const status = await get();
        done++;
        if (status !== 200) failed.push(status);
        if (done === 150) up.procs[0]!.signal('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 8 }, loop));
    agent.destroy();
    expect(await up.procs[0]!.exited()).toBe(137);
    expect(failed).toEqual([]);
    expect(done).toBeGreaterThanOrEqual(600);
  });
});

describe('the error log explains 502s (issue 12 point 10)', () => {
  it('one line per failed try, at most 10 a second, then a suppressed count', async () => {
    const dir = tempDir('ndcfl-');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${join(dir, 'gone.sock')}`]);
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => request({ url: proxy.http, path: `/b${i}` })));
    expect(burst.every((r) => r.status === 502)).toBe(true);
    await until(async () => (await request({ url: proxy.http, path: '/after' })) && /suppressed \d+ similar/.test(proxy.proc.output()), 5000, 'the suppressed summary');
    const out = proxy.proc.output();
    const lines = out.split('\n').filter((l) => l.includes('failed (ENOENT'));
    expect(lines[0]).toMatch(/\[ERROR\] upstream unix:\S+gone\.sock failed \(ENOENT: connect ENOENT \S+\) on try 1, request: "GET \/b\d+ HTTP\/1\.1", client: 127\.0\.0\.1; no other server to try; answered 502$/);
    const firstWindow = out.slice(0, out.indexOf('suppressed')).split('\n').filter((l) => l.includes('failed (ENOENT'));
    expect(firstWindow).toHaveLength(10);
    expect(Number(/suppressed (\d+) similar/.exec(out)![1])).toBeGreaterThanOrEqual(20);
  });
});

describe('a broken log pipe (issue 12 point 9)', () => {
  it('keeps serving without spinning and still stops on TERM', async () => {
    const up = await upstreams(1);
    const port = await freePort();
    const sh = startProcess('sh', ['-c', `"${process.execPath}" "${NODICORN_BIN}" proxy --workers 1 --listen http://127.0.0.1:${port} --upstream unix:${up.sockets[0]} --access-log - 2>&1 | head -c 10`]);
    const url = `http://127.0.0.1:${port}`;
    await until(() => request({ url, path: '/' }).then((r) => r.status === 200), 10_000, 'the proxy to answer');
    const pid = await until(() => childPids(sh.pid).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('proxy')), 5000, 'the proxy pid');
    for (let i = 0; i < 20; i++) expect((await request({ url, path: `/r${i}` })).status).toBe(200);
    const ticksPerSecond = await cpuTicksPerSecond(pid);
    // A spin is ~100 ticks a second; JIT and GC after the requests stay far below half of that.
    expect(ticksPerSecond).toBeLessThan(50);
    process.kill(pid, 'SIGTERM');
    await until(() => !running(pid), 3000, 'the proxy to exit on TERM');
  });
});
