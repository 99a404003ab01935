import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

const base = (dir: string) => ['--chdir', dir, '-b', '127.0.0.1:0'];

describe('nodicorn APP: serving', () => {
  it('serves on TCP and a Unix socket at once, from every worker', async () => {
    const dir = appDir();
    const sock = join(dir, 'app.sock');
    const server = await startNodicorn(['-w', '2', ...base(dir), '-b', `unix:${sock}`, 'app.mjs:app']);
    const workers = childPids(server.pid);
    expect(workers).toHaveLength(2);
    const tcp = await request({ url: server.url });
    expect(tcp.status).toBe(200);
    expect(workers).toContain(Number(tcp.body));
    const unix = await request({ socketPath: sock });
    expect(workers).toContain(Number(unix.body));
    expect(statSync(sock).isSocket()).toBe(true);
    // Both workers accept on the shared sockets: keep asking until each has answered.
    const seen = new Set<string>();
    await until(async () => {
      seen.add((await request({ url: server.url })).body);
      return seen.size === 2;
    }, 10_000, 'both workers to answer');
  });

  it('loads the default export, a factory with literal args, and an App object with startup/shutdown', async () => {
    const dir = appDir();
    const byDefault = await startNodicorn([...base(dir), 'app.mjs']);
    expect((await request({ url: byDefault.url })).status).toBe(200);
    const factory = await startNodicorn([...base(dir), `app.mjs:createApp('ab', 3)`]);
    expect((await request({ url: factory.url })).body).toBe('ababab');
    const object = await startNodicorn([...base(dir), 'app.mjs:lifecycle']);
    expect((await request({ url: object.url })).body).toBe('object app');
    await object.waitFor(/STARTUP \d+/);
    object.signal('SIGTERM');
    expect(await object.exited()).toBe(0);
    expect(object.output()).toMatch(/SHUTDOWN \d+/);
  });

  it('closes a kept-alive connection after --keep-alive-requests responses, as nginx keepalive_requests', async () => {
    const dir = appDir();
    const server = await startNodicorn([...base(dir), '--keep-alive-requests', '3', 'app.mjs:app']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const answers: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        await new Promise<string | undefined>((resolve, reject) => {
          http.get(`${server.url}/`, { agent }, (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.headers.connection));
          }).on('error', reject);
        }),
      );
    }
    agent.destroy();
    expect(answers).toEqual(['keep-alive', 'keep-alive', 'close', 'keep-alive', 'keep-alive', 'close']);
    expect(sockets.size).toBe(2);
  });

  it('answers a thrown handler error with 500 and keeps the worker', async () => {
    const dir = appDir();
    const server = await startNodicorn([...base(dir), 'app.mjs:app']);
    const before = (await request({ url: server.url })).body;
    const failed = await request({ url: server.url, path: '/throw' });
    expect(failed.status).toBe(500);
    expect((await request({ url: server.url })).body).toBe(before);
    expect(server.output()).toMatch(/\[ERROR\] Error handling request GET \/throw: Error: handler exploded/);
  });

  it('passes -e KEY=VALUE to workers, names processes, and writes the access log', async () => {
    const dir = appDir();
    const server = await startNodicorn([...base(dir), '-e', 'GREETING=hello there', '-n', 'shop', '--access-logfile', '-', 'app.mjs:app']);
    expect((await request({ url: server.url, path: '/env?name=GREETING' }, { headers: { 'user-agent': 'probe/1' } })).body).toBe('hello there');
    await server.waitFor(/127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/env\?name=GREETING HTTP\/1\.1" 200 11 "-" "probe\/1"/);
    expect(readFileSync(`/proc/${server.pid}/cmdline`, 'utf8')).toContain('nodicorn: master [shop]');
    const [worker] = childPids(server.pid);
    expect(readFileSync(`/proc/${worker}/cmdline`, 'utf8')).toContain('nodicorn: worker [shop]');
  });

  it('applies --umask to the Unix socket and removes it on exit, replacing a stale one at start', async () => {
    const dir = appDir();
    const sock = join(dir, 'app.sock');
    const stale = await import('node:child_process').then(({ spawnSync }) =>
      spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]),
    );
    expect(stale.signal).toBe('SIGKILL');
    expect(statSync(sock).isSocket()).toBe(true);
    const server = await startNodicorn(['--chdir', dir, '-b', `unix:${sock}`, '-m', '0o077', 'app.mjs:app']);
    expect(statSync(sock).mode & 0o777).toBe(0o700);
    expect((await request({ socketPath: sock })).status).toBe(200);
    server.signal('SIGTERM');
    expect(await server.exited()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });
});
