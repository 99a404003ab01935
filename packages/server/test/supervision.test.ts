import { afterEach, describe, expect, it } from 'vitest';
import { childPids, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

const base = (dir: string) => ['--chdir', dir, '-b', '127.0.0.1:0'];

/** Sends requests back to back until stopped; counts failures (anything but a 200). */
function steadyTraffic(url: string) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const done = (async () => {
    while (!stop) {
      try {
        const res = await request({ url });
        if (res.status === 200) ok++;
        else failures.push(`status ${res.status}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return { ok, failures };
    },
  };
}

describe('nodicorn APP: supervision', () => {
  it('replaces a worker killed with SIGKILL within 2 s while the other keeps answering', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), 'app.mjs:app']);
    const [victim, survivor] = childPids(server.pid);
    const traffic = steadyTraffic(server.url);
    const killedAt = Date.now();
    process.kill(victim!, 'SIGKILL');
    const replaced = await until(() => {
      const pids = childPids(server.pid);
      return pids.length === 2 && !pids.includes(victim!) ? pids : null;
    }, 2000, 'a replacement worker');
    expect(replaced).toContain(survivor);
    await server.waitFor(/Worker \d+ ready \(respawn/);
    expect(Date.now() - killedAt).toBeLessThan(2000);
    const { ok, failures } = await traffic.stop();
    expect(ok).toBeGreaterThan(0);
    // Only a request in flight on the killed worker can fail; between requests there is none.
    expect(failures.length).toBeLessThanOrEqual(1);
    expect(server.output()).toMatch(new RegExp(`Worker ${victim} died unexpectedly \\(signal SIGKILL\\)`));
  });

  it('reloads on HUP: every worker pid is new and no request fails meanwhile', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), 'app.mjs:app']);
    const before = childPids(server.pid);
    const traffic = steadyTraffic(server.url);
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete/);
    const after = await until(() => {
      const pids = childPids(server.pid);
      return pids.length === 2 && pids.every((p) => !before.includes(p)) ? pids : null;
    }, 10_000, 'the old workers to exit');
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(after.some((p) => before.includes(p))).toBe(false);
  });

  it('stops gracefully on TERM with exit 0, letting an in-flight request finish', async () => {
    const dir = appDir();
    const server = await startNodicorn([...base(dir), '--graceful-timeout', '5', 'app.mjs:app']);
    const slow = request({ url: server.url, path: '/slow?ms=800' });
    await server.waitFor(/SLOW REQUEST \d+/);
    const started = Date.now();
    server.signal('SIGTERM');
    expect((await slow).status).toBe(200);
    expect(await server.exited()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops fast on INT and QUIT', async () => {
    for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
      const dir = appDir();
      const server = await startNodicorn([...base(dir), 'app.mjs:app']);
      server.signal(signal);
      expect(await server.exited(3000)).toBe(0);
      expect(server.output()).toMatch(/Fast stop/);
    }
  });

  it('kills a worker whose loop is blocked past --timeout, naming the request and its stack, and replaces it', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), '-t', '2', 'app.mjs:app']);
    request({ url: server.url, path: '/spin' }).catch(() => undefined);
    const [line] = await server.waitFor(/WORKER TIMEOUT \(pid:\d+\): event loop blocked for [\d.]+s while serving GET \/spin[^\n]*\nJavaScript stack where the event loop was blocked:\n\s+at app \(file:\/\/[^\n]*app\.mjs:\d+:\d+\)/, 10_000);
    expect(line).toContain('/spin');
    await server.waitFor(/Worker \d+ ready \(respawn/);
    expect((await request({ url: server.url })).status).toBe(200);
  });

  it('adds and removes workers on TTIN and TTOU', async () => {
    const dir = appDir();
    const server = await startNodicorn([...base(dir), 'app.mjs:app']);
    server.signal('SIGTTIN');
    await until(() => childPids(server.pid).length === 2, 15_000, 'a second worker');
    server.signal('SIGTTOU');
    await until(() => childPids(server.pid).length === 1, 15_000, 'back to one worker');
  });

  it('recycles workers at --max-requests through the zero-loss path', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), '--max-requests', '20', '--max-requests-jitter', '5', 'app.mjs:app']);
    const first = childPids(server.pid);
    const failures: string[] = [];
    for (let i = 0; i < 120; i++) {
      const res = await request({ url: server.url }).catch((err: unknown) => ({ status: String(err) }));
      if (res.status !== 200) failures.push(String(res.status));
    }
    expect(failures).toEqual([]);
    expect(server.output()).toMatch(/Replacing worker \d+: max_requests \(2\d\) reached/);
    await until(() => childPids(server.pid).every((p) => !first.includes(p)), 10_000, 'every first worker recycled');
  });

  it('halts when the master is gone: workers notice and exit', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', ...base(dir), 'app.mjs:app']);
    const workers = childPids(server.pid);
    process.kill(server.pid, 'SIGKILL');
    await until(() => workers.every((pid) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }), 15_000, 'orphaned workers to exit');
  });
});
