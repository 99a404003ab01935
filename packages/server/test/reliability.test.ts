import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, childPids, hasWrk, onCleanup, request, runCleanups, runWrk, startNodicorn, startProcess, until } from '@nodicorn/testkit';
import { appDir, BASIC_APP } from './fixtures.js';

afterEach(runCleanups);

const HELLO = `export const app = (req, res) => res.end('hello');`;

/** Sends raw bytes; resolves with the status line (or 'closed' when the server closed without one). */
function rawStatus(port: number, text: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`hung: no answer within ${timeoutMs} ms`)));
    socket.on('data', (c: Buffer) => {
      answer += c;
      if (answer.includes('\r\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer ? answer.split('\r\n')[0]! : 'closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve('closed') : reject(err)));
  });
}

describe.skipIf(!hasWrk)('faults under load', () => {
  it('kill -9 of a random worker every second: only requests in flight on it fail, and the server recovers', async () => {
    const dir = appDir({ 'app.mjs': HELLO });
    const server = await startNodicorn(['-w', '3', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    // Eight kills, one a second, inside a 12 s load run (wrk stops by itself).
    const kills = 8;
    const load = runWrk(server.url, { seconds: 12, connections: 50 });
    for (let i = 0; i < kills; i++) {
      await new Promise((r) => setTimeout(r, 1000)); // the fault schedule itself, not a wait for readiness
      const pids = await until(() => (childPids(server.pid).length > 0 ? childPids(server.pid) : null), 10_000, 'a worker to kill');
      process.kill(pids[Math.floor(Math.random() * pids.length)]!, 'SIGKILL');
    }
    const result = await load;
    const failed = result.non2xx + result.socketErrors.read + result.socketErrors.write + result.socketErrors.connect + result.socketErrors.timeout;
    process.stdout.write(`kill-9 fault run: ${kills} workers killed, ${result.requests} requests, ${failed} failed (${result.non2xx} non-2xx, read ${result.socketErrors.read}, write ${result.socketErrors.write}, connect ${result.socketErrors.connect}, timeout ${result.socketErrors.timeout})\n`);
    expect(result.non2xx).toBe(0);
    expect(result.socketErrors.connect).toBe(0); // the sockets never stop accepting
    // Each kill can cost at most the requests in flight on that worker: its share of the 50 connections.
    expect(failed).toBeLessThanOrEqual(kills * 50);
    await until(() => childPids(server.pid).length === 3, 15_000, 'three workers again');
    expect((await request({ url: server.url })).status).toBe(200);
  });
});

describe('faults', () => {
  it('a worker leaking memory past --max-worker-memory is replaced through the zero-loss path', async () => {
    const dir = appDir({ 'app.mjs': `const leak = []; export const app = (req, res) => { leak.push(Buffer.alloc(8 * 1024 * 1024, 1)); res.end('ok ' + process.pid); };` });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-t', '1', '--max-worker-memory', '120', 'app.mjs:app']);
    const [first] = childPids(server.pid);
    for (let i = 0; i < 14; i++) expect((await request({ url: server.url })).status).toBe(200);
    await server.waitFor(/Replacing worker \d+: max_worker_memory \(120 MB\) exceeded: RSS \d+ MB/);
    await until(() => !childPids(server.pid).includes(first!) && childPids(server.pid).length === 1, 15_000, 'the leaking worker retired');
    expect((await request({ url: server.url })).status).toBe(200);
  });

  it('an app that fails at startup after a HUP: the old workers keep serving, the error is logged, no halt', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    const before = childPids(server.pid).sort();
    writeFileSync(join(dir, 'app.mjs'), `throw new Error('bad deploy');`);
    server.signal('SIGHUP');
    await server.waitFor(/threw while being imported: Error: bad deploy/);
    // Both replacements (one per worker) must have failed before the worker set can be compared.
    await until(() => (server.output().match(/Worker failed to boot; the running workers keep serving/g) ?? []).length === 2, 15_000, 'both replacements to fail');
    expect((await request({ url: server.url })).status).toBe(200);
    expect(childPids(server.pid).sort()).toEqual(before);
    // Said as a failure, naming who still serves, never "Reload complete".
    await server.waitFor(new RegExp(`\\[ERROR\\] Reload failed: 2 new worker\\(s\\) did not start; 0 serve the new code; 2 worker\\(s\\) from before the HUP still serve the previous code \\(pid (${before.join('|')}), (${before.join('|')})\\)\\. Fix the app and send HUP again\\.`));
    expect(server.output()).not.toMatch(/Reload complete/);
    writeFileSync(join(dir, 'app.mjs'), BASIC_APP);
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete/);
  });

  it('two masters racing for one pidfile: exactly one starts', async () => {
    const dir = appDir();
    const pidfile = join(dir, 'app.pid');
    const a = startProcess(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', '127.0.0.1:0', '-p', pidfile, '--control-socket', join(dir, 'a.sock'), 'app.mjs:app']);
    const b = startProcess(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', '127.0.0.1:0', '-p', pidfile, '--control-socket', join(dir, 'b.sock'), 'app.mjs:app']);
    const loser = await Promise.race([a.exited(30_000).then(() => a), b.exited(30_000).then(() => b)]);
    const winner = loser === a ? b : a;
    expect(await loser.exited()).toBe(1);
    expect(loser.output()).toMatch(/Pidfile .* (names process \d+, which is still running|is being taken by another process)/);
    await winner.waitFor(/Ready: /);
  });
});

describe('bad input never gets a 2xx, never crashes a worker, never hangs other clients', () => {
  const cases: [string, string | Buffer][] = [
    ['a malformed request line', 'GARBAGE\r\n\r\n'],
    ['an invalid method', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'],
    ['a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'],
    ['duplicate Content-Length', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a transfer coding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n'],
    ['chunked on HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a bad chunk size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
    ['an obs-folded header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'],
    ['an oversized request line', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['an oversized header', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`],
    ['too many headers', `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 150 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`],
    ['GET *', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an absolute-form target of another scheme', 'GET ftp://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an HTTP/2 preface on an HTTP/1 port', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ];

  it.each(cases)('%s', async (_, raw) => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    const [worker] = childPids(server.pid);
    const status = await rawStatus(server.port!, raw);
    expect(status).toMatch(/^(HTTP\/1\.1 (400|414|431|501|505) |closed$)/);
    expect((await request({ url: server.url })).status).toBe(200);
    expect(childPids(server.pid)).toEqual([worker]);
  });

  it('slowloris: hundreds of connections trickling headers do not block a normal request', async () => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    const sockets: net.Socket[] = [];
    onCleanup(() => sockets.forEach((s) => s.destroy()));
    for (let i = 0; i < 300; i++) {
      const socket = net.connect(server.port!, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      sockets.push(socket);
    }
    const trickle = setInterval(() => sockets.forEach((s) => s.write('a')), 200);
    onCleanup(() => clearInterval(trickle));
    const started = Date.now();
    expect((await request({ url: server.url })).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('10 000 idle connections do not stop a normal request', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--worker-connections', '12000', '--backlog', '16384', 'app.mjs:app']);
    const sockets: net.Socket[] = [];
    onCleanup(() => sockets.forEach((s) => s.destroy()));
    await Promise.all(
      Array.from({ length: 10_000 }, () => new Promise<void>((resolve) => {
        const socket = net.connect(server.port!, '127.0.0.1', () => resolve());
        socket.on('error', () => resolve());
        sockets.push(socket);
      })),
    );
    expect(sockets.filter((s) => !s.destroyed && s.readyState === 'open').length).toBeGreaterThan(9_000);
    expect((await request({ url: server.url })).status).toBe(200);
  });
});

describe('privilege', () => {
  it.skipIf(process.getuid?.() !== 0)('a worker under --user nobody cannot write where the master can', async () => {
    const dir = appDir({ 'app.mjs': `import { writeFileSync } from 'node:fs'; export const app = (req, res) => { try { writeFileSync('/root/nodicorn-probe', 'x'); res.end('wrote'); } catch (e) { res.end(e.code); } };` });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', 'app.mjs:app']);
    expect((await request({ url: server.url })).body).toBe('EACCES');
  });

  it('an unknown group is one line', () => {
    const run = spawnSync(process.execPath, [NODICORN_BIN, '--chdir', appDir(), '-g', 'no-such-group-x', 'app.mjs'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('nodicorn: error: No such group "no-such-group-x" for --group; give an existing group name or a gid.');
  });
});
