// Faults measured against nginx → Gunicorn (issue 12): each scenario bounded in time, loopback only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

describe('faults: crashes', () => {
  it('killing a random serving worker every second never empties the pool: other slots are refilled at once', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    let kills = 0;
    // Crashes of serving workers: a victim is a worker this test has seen for a second or more
    // (one still booting has not taken its share of traffic yet, as in the fault run).
    const firstSeen = new Map<number, number>();
    const killer = setInterval(() => {
      const now = Date.now();
      const workers = childPids(server.pid).filter((pid) => now - (firstSeen.get(pid) ?? (firstSeen.set(pid, now), now)) >= 1_000);
      const victim = workers[Math.floor(Math.random() * workers.length)];
      if (victim === undefined) return;
      try {
        process.kill(victim, 'SIGKILL');
        kills++;
      } catch {
        // already gone
      }
    }, 1_000);
    const outcome = { ok: 0, reset: 0, timedOut: 0 };
    const stopAt = Date.now() + 10_000;
    try {
      while (Date.now() < stopAt) {
        try {
          // An empty pool shows as a request that waits in the backlog past its timeout.
          const res = await request({ url: server.url }, { timeoutMs: 2_000 });
          if (res.status === 200) outcome.ok++;
        } catch (err) {
          if (/timeout|timed out/i.test(String(err))) outcome.timedOut++;
          else outcome.reset++; // in flight on the worker just killed
        }
      }
    } finally {
      clearInterval(killer);
    }
    expect(kills).toBeGreaterThanOrEqual(6);
    expect(outcome.timedOut, JSON.stringify(outcome)).toBe(0);
    expect(outcome.ok).toBeGreaterThan(50);
    // The crash-looping slots did back off, and the server still has its two workers.
    expect(server.output()).toMatch(/died unexpectedly .*replacing it in \d+ ms/);
    expect((await request({ url: server.url })).status).toBe(200);
  });
});

/** An app that takes a while to import: the window in which workers are not accepting yet. */
const SLOW_TO_LOAD = `await new Promise((resolve) => setTimeout(resolve, 1500));\nexport const app = (req, res) => res.end('late but served');\n`;

describe('faults: starting', () => {
  it('a client that connects once the socket exists waits in the backlog and is served: none refused while workers boot', async () => {
    const dir = appDir({ 'slow.mjs': SLOW_TO_LOAD });
    const socketPath = join(dir, 'app.sock');
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', `unix:${socketPath}`, 'slow.mjs:app'], { waitReady: false });
    await until(() => existsSync(socketPath), 10_000, 'the socket file');
    const outcome = { served: 0, refused: 0, other: [] as string[] };
    // A connection every 20 ms from the moment the file exists, each waiting for its answer.
    const pending: Promise<void>[] = [];
    while (!/\[INFO\] Ready: /.test(server.output())) {
      pending.push(
        request({ socketPath }, { timeoutMs: 15_000 }).then(
          (res) => void (res.body === 'late but served' && outcome.served++),
          (err: NodeJS.ErrnoException) => void (err.code === 'ECONNREFUSED' ? outcome.refused++ : outcome.other.push(String(err))),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await Promise.all(pending);
    expect(pending.length).toBeGreaterThan(20);
    expect(outcome, 'every early connection was served').toEqual({ served: pending.length, refused: 0, other: [] });
  });
});
