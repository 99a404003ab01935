import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, REPO_ROOT, childPids, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir, BASIC_APP } from './fixtures.js';

afterEach(runCleanups);

const STATS_APP = `
import { serverStats } from '${join(REPO_ROOT, 'packages/server/dist/index.js')}';
export const app = async (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(await serverStats()));
};
`;

const nodicorn = (args: string[], options: { uid?: number; gid?: number } = {}) =>
  spawnSync(process.execPath, [NODICORN_BIN, ...args], { encoding: 'utf8', timeout: 30_000, ...options });

describe('control socket: nodicorn status and ctl', () => {
  it('shows master and workers, as a table and as JSON, on a socket only its user can use', async () => {
    const dir = appDir();
    const sock = join(dir, 'control.sock');
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--control-socket', sock, '-n', 'shop', 'app.mjs:app']);
    await request({ url: server.url });
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const table = nodicorn(['status', '--control-socket', sock]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^shop: master ${server.pid}, running, up \\d+s, 2/2 workers, 0 restarts`));
    expect(table.stdout).toMatch(/WORKER\s+PID\s+STATE\s+REQUESTS\s+RSS\s+HEARTBEAT\s+AGE/);
    for (const pid of childPids(server.pid)) expect(table.stdout).toMatch(new RegExp(`#\\d+\\s+${pid}\\s+ready\\s+\\d+\\s+[\\d.]+ MB`));
    const json = JSON.parse(nodicorn(['status', '--control-socket', sock, '--json']).stdout) as { pid: number; workers: { pid: number }[] };
    expect(json.pid).toBe(server.pid);
    expect(json.workers.map((w) => w.pid).sort()).toEqual(childPids(server.pid).sort());
    if (process.getuid?.() === 0) {
      const stranger = nodicorn(['status', '--control-socket', sock], { uid: 65534, gid: 65534 });
      expect(stranger.status).toBe(1);
      expect(stranger.stderr.trim()).toBe(`nodicorn: error: Cannot reach control socket ${sock}: permission denied (it belongs to another user).`);
    }
  });

  it('ctl ttin, ttou, reload and stop act on the master', async () => {
    const dir = appDir();
    const sock = join(dir, 'control.sock');
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--control-socket', sock, 'app.mjs:app']);
    expect(nodicorn(['ctl', 'ttin', '--control-socket', sock]).stdout).toBe(`ttin: sent to ${sock}\n`);
    await until(() => childPids(server.pid).length === 2, 15_000, 'two workers');
    nodicorn(['ctl', 'ttou', '--control-socket', sock]);
    await until(() => childPids(server.pid).length === 1, 15_000, 'one worker');
    const before = childPids(server.pid);
    nodicorn(['ctl', 'reload', '--control-socket', sock]);
    await server.waitFor(/Reload complete/);
    await until(() => childPids(server.pid).length === 1 && childPids(server.pid)[0] !== before[0], 15_000, 'a new worker');
    nodicorn(['ctl', 'stop', '--control-socket', sock]);
    expect(await server.exited()).toBe(0);
  });

  it('answers a server that is not running, and a bad action, with one line', () => {
    const dir = appDir({ 'app.mjs': BASIC_APP });
    const missing = nodicorn(['status', '--control-socket', join(dir, 'none.sock')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/Cannot reach control socket .*none\.sock: no nodicorn is running there\.$/);
    const bad = nodicorn(['ctl', 'explode', '--control-socket', join(dir, 'none.sock')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('nodicorn: error: nodicorn ctl: expected one of reload, ttin, ttou, stop, got explode.');
  });

  it('ctl and status --name X with no such server list the names that are running', async () => {
    const dir = appDir();
    // A private XDG_RUNTIME_DIR: the default control directory holds only this test's server.
    const env = { ...process.env, XDG_RUNTIME_DIR: dir };
    await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-n', 'shop', 'app.mjs:app'], { env });
    for (const command of [['ctl', 'reload'], ['status']]) {
      const wrong = spawnSync(process.execPath, [NODICORN_BIN, ...command, '--name', 'shp'], { encoding: 'utf8', timeout: 30_000, env });
      expect(wrong.status).toBe(1);
      expect(wrong.stderr.trim()).toBe('nodicorn: error: No running nodicorn is named "shp"; the running ones are shop.');
    }
    const right = spawnSync(process.execPath, [NODICORN_BIN, 'status', '--name', 'shop'], { encoding: 'utf8', timeout: 30_000, env });
    expect(right.stdout).toMatch(/^shop: master \d+, running/);
  });

  it('serverStats() gives an app the same numbers from inside a worker', async () => {
    const dir = appDir({ 'app.mjs': STATS_APP });
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--control-socket', join(dir, 'c.sock'), 'app.mjs:app']);
    const stats = JSON.parse((await request({ url: server.url })).body) as { pid: number; state: string; workers: { pid: number; state: string }[] };
    expect(stats.pid).toBe(server.pid);
    expect(stats.state).toBe('running');
    expect(stats.workers.map((w) => w.pid).sort()).toEqual(childPids(server.pid).sort());
  });
});
