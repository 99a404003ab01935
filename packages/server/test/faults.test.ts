// Faults measured against nginx → Gunicorn (issue 12): each scenario bounded in time, loopback only.
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, request, runCleanups, startNodicorn } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

describe('faults: crashes', () => {
  it('killing a random worker every 700 ms never empties the pool: other slots are refilled at once', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    let kills = 0;
    const killer = setInterval(() => {
      const workers = childPids(server.pid);
      const victim = workers[Math.floor(Math.random() * workers.length)];
      if (victim === undefined) return;
      try {
        process.kill(victim, 'SIGKILL');
        kills++;
      } catch {
        // already gone
      }
    }, 700);
    const outcome = { ok: 0, reset: 0, timedOut: 0 };
    const stopAt = Date.now() + 8_000;
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
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(outcome.timedOut, JSON.stringify(outcome)).toBe(0);
    expect(outcome.ok).toBeGreaterThan(50);
    // The crash-looping slots did back off, and the server still has its two workers.
    expect(server.output()).toMatch(/died unexpectedly .*replacing it in \d+ ms/);
    expect((await request({ url: server.url })).status).toBe(200);
  });
});
