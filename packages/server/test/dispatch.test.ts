import { afterEach, describe, expect, it } from 'vitest';
import { childPids, freePort, NODICORN_BIN, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { spawnSync } from 'node:child_process';
import { supportsReusePort } from '../src/sockets/accept-mode.js';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

const base = (dir: string) => ['--chdir', dir, '-b', '127.0.0.1:0'];

async function answeringPids(url: string, want: number): Promise<Set<string>> {
  const seen = new Set<string>();
  await until(async () => {
    seen.add((await request({ url })).body);
    return seen.size >= want;
  }, 10_000, `${want} distinct workers to answer`);
  return seen;
}

describe('dispatch modes', () => {
  it('round-robin: the master deals connections to every worker, on TCP and Unix sockets', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), '-b', `unix:${dir}/rr.sock`, '--dispatch', 'round-robin', 'app.mjs:app']);
    const seen = await answeringPids(server.url, 2);
    expect([...seen].map(Number).sort()).toEqual(childPids(server.pid).sort());
    expect((await request({ socketPath: `${dir}/rr.sock` })).status).toBe(200);
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete/);
    expect((await request({ url: server.url })).status).toBe(200);
  });

  it('sync: a long request never holds up the next one, which goes to a free worker', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), '-k', 'sync', 'app.mjs:app']);
    const slow = request({ url: server.url, path: '/slow?ms=1500' });
    const [, slowPid] = await server.waitFor(/SLOW REQUEST (\d+)/);
    for (let i = 0; i < 5; i++) {
      const fast = await request({ url: server.url });
      expect(fast.body).not.toBe(slowPid);
      expect(fast.headers.connection).toBe('close');
    }
    expect((await slow).status).toBe(200);
  });

  it.runIf(supportsReusePort())('reuse-port: every worker binds its own socket on the fixed port', async () => {
    const dir = appDir();
    const port = await freePort();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', `127.0.0.1:${port}`, '--dispatch', 'reuse-port', 'app.mjs:app']);
    const seen = await answeringPids(`http://127.0.0.1:${port}`, 2);
    expect(seen.size).toBe(2);
    server.signal('SIGTERM');
    expect(await server.exited()).toBe(0);
  });

  it.runIf(!supportsReusePort())('reuse-port on a Node without it: one line naming the setting and the fix, exit 2', () => {
    const dir = appDir();
    const run = spawnSync(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', '127.0.0.1:8123', '--dispatch', 'reuse-port', 'app.mjs:app'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toMatch(/^nodicorn: error: Invalid dispatch \(--dispatch\): reuse-port needs Node >= 22\.12 \(this is 20\.[\d.]+\)\. Use --dispatch shared/);
  });
});
