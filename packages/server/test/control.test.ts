import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, REPO_ROOT, childPids, request, runCleanups, startNodicorn, startProcess, until } from '@nodicorn/testkit';
import { formatStatus, processAlive } from '../src/index.js';
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

  it('status request counts are at most a second old (the heartbeat is every 7.5 s)', async () => {
    const dir = appDir();
    const sock = join(dir, 'control.sock');
    const server = await startNodicorn(['-w', '1', '--chdir', dir, '-b', '127.0.0.1:0', '--control-socket', sock, 'app.mjs:app']);
    for (let i = 0; i < 25; i++) await request({ url: server.url });
    // The claim itself, not synchronisation: a second after the last request, status has counted it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const status = JSON.parse(nodicorn(['status', '--control-socket', sock, '--json']).stdout) as { workers: { requests: number }[] };
    expect(status.workers[0]!.requests).toBe(25);
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

describe('control directory hijack (another local user creates it first)', () => {
  const ESC = '\u001b';
  /** A fake master, run as `nobody`, that answers every request with escape sequences and ok:true. */
  const FAKE_MASTER = `
const net = require('node:net');
const fs = require('node:fs');
const [dir] = process.argv.slice(1);
fs.mkdirSync(dir, { mode: 0o777 });
fs.chmodSync(dir, 0o777);
net.createServer((s) => s.end(JSON.stringify({ ok: true, status: { name: '${ESC}]0;owned${ESC}\\\\ ${ESC}[2Jshop', pid: 1, state: 'running', uptimeMs: 1, desiredWorkers: 1, restarts: 0, listeners: [], workers: [] } }) + '\\n'))
  .listen(dir + '/shop.sock', () => { fs.chmodSync(dir + '/shop.sock', 0o777); console.log('FAKE READY'); });
`;

  it.skipIf(process.getuid?.() !== 0)('refuses a squatted directory on both sides: the master serves without it, status and ctl reach nothing', async () => {
    const dir = appDir();
    chmodSync(dir, 0o777); // the runtime dir others can write to, as /tmp is
    const squatted = join(dir, 'nodicorn');
    const fake = startProcess(process.execPath, ['-e', FAKE_MASTER, squatted], { uid: 65534, gid: 65534 });
    await fake.waitFor(/FAKE READY/);
    expect(statSync(squatted).uid).toBe(65534);
    const env = { ...process.env, XDG_RUNTIME_DIR: dir };
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-n', 'shop', 'app.mjs:app'], { env });
    expect(server.output()).toMatch(new RegExp(`Control directory ${squatted} is not safe to use: it belongs to uid 65534, not to this user \\(uid 0\\)\\..* Serving without a control socket`));
    expect((await request({ url: server.url })).status).toBe(200);
    for (const args of [['status'], ['status', '--name', 'shop'], ['ctl', 'stop', '--name', 'shop'], ['ctl', 'stop']]) {
      const run = spawnSync(process.execPath, [NODICORN_BIN, ...args], { encoding: 'utf8', timeout: 30_000, env });
      expect(run.status, args.join(' ')).toBe(1);
      expect(run.stdout, 'nothing the fake said is printed, and no "sent"').toBe('');
      expect(run.stderr).toMatch(/Control directory .* is not safe to use: it belongs to uid 65534/);
      expect(run.stderr).not.toContain(ESC);
    }
    expect(processAlive(server.pid), 'the real master was never told to stop').toBe(true);
  });

  it('refuses a symlinked or group-open default directory', () => {
    const dir = appDir();
    const target = join(dir, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(dir, 'nodicorn'));
    const env = { ...process.env, XDG_RUNTIME_DIR: dir };
    const linked = spawnSync(process.execPath, [NODICORN_BIN, 'status'], { encoding: 'utf8', timeout: 30_000, env });
    expect(linked.status).toBe(1);
    expect(linked.stderr).toMatch(/Control directory .*nodicorn is not safe to use: it is a symbolic link/);
    const open = appDir();
    mkdirSync(join(open, 'nodicorn'), { mode: 0o770 });
    chmodSync(join(open, 'nodicorn'), 0o770);
    const groupOpen = spawnSync(process.execPath, [NODICORN_BIN, 'status'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, XDG_RUNTIME_DIR: open } });
    expect(groupOpen.stderr).toMatch(/its mode is 0770; only its owner may use it \(0700\)/);
  });

  it('prints no control characters a control socket sends', () => {
    const text = formatStatus({ name: `${ESC}]0;owned${ESC}\\ ${ESC}[2Jshop\u009b`, pid: 1, state: 'running', uptimeMs: 0, desiredWorkers: 1, restarts: 0, listeners: [`a${ESC}[31mb`], workers: [] });
    // eslint-disable-next-line no-control-regex -- the point: no control character survives
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(text).toContain('\\u001b]0;owned');
  });
});
