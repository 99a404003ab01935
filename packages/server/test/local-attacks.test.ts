// Attacks by another local user. SIGUSR1 opens Node's inspector unless a handler exists, and anyone on
// the machine can then run code in that process through 127.0.0.1:9229 (USR1 is what logrotate sends;
// every nodicorn process must take it as "reopen the logs" at every moment of its life). A Unix socket
// others can write to lets them pose as the trusted proxy.
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, listeningPorts, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

/** An app that takes a while to import, so its workers are caught booting. */
const SLOW_TO_LOAD = `
console.log('LOADING ' + process.pid);
await new Promise((resolve) => setTimeout(resolve, 1500));
export const app = (req, res) => res.end(String(process.pid));
`;

/** Sends USR1 to each pid every 15 ms for `ms`; a pid that is gone is skipped. */
async function storm(pids: () => number[], ms: number): Promise<number> {
  let sent = 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGUSR1');
        sent++;
      } catch {
        // exited between listing and signalling
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  return sent;
}

const inspectorRefused = () =>
  new Promise<boolean>((resolve) => {
    const probe = net.connect(9229, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });

describe('SIGUSR1 never opens an inspector', () => {
  it('in the master, in booting workers, and during HUP reloads: only the served port is ever listened on', async () => {
    const dir = appDir();
    writeFileSync(join(dir, 'slow.mjs'), SLOW_TO_LOAD);
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--access-logfile', join(dir, 'access.log'), 'slow.mjs:app'], { waitReady: false });
    await server.waitFor(/Listening at: http:\/\/127\.0\.0\.1:\d+/);
    const port = Number(/Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1]);
    // Workers caught while they import the app, once each has started running its own code.
    await server.waitFor(/LOADING \d+[\s\S]*LOADING \d+/);
    const booting = [...server.output().matchAll(/LOADING (\d+)/g)].map((m) => Number(m[1]));
    let sent = await storm(() => [server.pid, ...booting], 600);
    await server.waitFor(/\[INFO\] Ready: /);
    expect((await request({ url: `http://127.0.0.1:${port}` })).status).toBe(200);

    // HUP: the replacements boot while USR1 keeps arriving at the master, which forwards it.
    for (let reload = 0; reload < 2; reload++) {
      const before = server.output().match(/Reload complete/g)?.length ?? 0;
      server.signal('SIGHUP');
      sent += await storm(() => [server.pid], 2500);
      await until(() => (server.output().match(/Reload complete/g)?.length ?? 0) > before, 20_000, 'the reload to complete');
    }
    expect(sent).toBeGreaterThan(100);

    expect(server.output()).not.toMatch(/Debugger listening|inspector/i);
    // A retiring worker has closed its listener already: what counts is that nothing else is open.
    expect(listeningPorts(server.pid)).toEqual([port]);
    for (const pid of childPids(server.pid)) expect(listeningPorts(pid).filter((p) => p !== port), `ports of ${pid}`).toEqual([]);
    expect(await inspectorRefused()).toBe(true);
    // Every process survived and serves; the master forwarded the reopen to the ready workers.
    expect((await request({ url: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect(server.output()).toMatch(/Worker \d+: log files reopened/);
    server.signal('SIGTERM');
    expect(await server.exited()).toBe(0);
  });
});

describe('Unix sockets and forwarded headers from other local users', () => {
  /** What the app believes about its client: the X-Forwarded-For a trusted peer sent, or the peer. */
  const WHO = `export const app = (req, res) => res.end(String(req.headers['x-forwarded-for'] ?? 'direct'));`;
  /** Runs as `nobody`: connects to the socket and poses as the proxy. */
  const SPOOF = `
const http = require('node:http');
const req = http.get({ socketPath: process.argv[1], path: '/', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' } }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => console.log('ANSWER ' + body));
});
req.on('error', (err) => console.log('ERROR ' + err.code));
`;

  it.skipIf(process.getuid?.() !== 0)('by default the socket is 0660: another local user cannot connect, so cannot pose as the proxy', async () => {
    const dir = appDir({ 'who.mjs': WHO });
    const socketPath = join(dir, 'app.sock');
    const server = await startNodicorn(['--chdir', dir, '-b', `unix:${socketPath}`, 'who.mjs:app']);
    expect(statSync(socketPath).mode & 0o777).toBe(0o660);
    expect(server.output()).not.toMatch(/can be written by every local user/);
    const attack = spawnSync(process.execPath, ['-e', SPOOF, socketPath], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000 });
    expect(attack.stdout.trim()).toBe('ERROR EACCES');
    // The owner (the proxy's user) still can, and is trusted as the proxy.
    expect((await request({ socketPath }, { headers: { 'x-forwarded-for': '203.0.113.9' } })).body).toBe('203.0.113.9');
  });

  it.skipIf(process.getuid?.() !== 0)('a mask that opens the socket to everyone (Gunicorn\'s 0) is warned about at start', async () => {
    const dir = appDir({ 'who.mjs': WHO });
    const socketPath = join(dir, 'app.sock');
    const server = await startNodicorn(['--chdir', dir, '-b', `unix:${socketPath}`, '--umask', '0', 'who.mjs:app']);
    expect(server.output()).toMatch(/unix:.*app\.sock can be written by every local user \(--umask 0o0\), and its peers are trusted for X-Forwarded-For\/-Proto\/-Host/);
    const attack = spawnSync(process.execPath, ['-e', SPOOF, socketPath], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000 });
    expect(attack.stdout.trim(), 'what the warning is about').toBe('ANSWER 6.6.6.6');
  });
});
