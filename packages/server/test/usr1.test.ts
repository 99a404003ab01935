// Attack: SIGUSR1 opens Node's inspector unless a handler exists (or --disable-sigusr1), and anyone on
// the machine can then run code in that process through 127.0.0.1:9229. USR1 is what logrotate sends;
// every nodicorn process must take it as "reopen the logs" at every moment of its life.
import { writeFileSync } from 'node:fs';
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
