import { afterEach, describe, expect, it } from 'vitest';
import { hasWrk, runCleanups, runWrk, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

const HELLO = { 'app.mjs': `export const app = (req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello'); };` };

/** How many reloads the master has completed so far. */
const reloadsDone = (output: () => string) => (output().match(/Reload complete/g) ?? []).length;

describe.skipIf(!hasWrk)('nodicorn APP under load (wrk, 50 connections)', () => {
  it('loses zero requests across five HUPs', async () => {
    const dir = appDir(HELLO);
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app']);
    const load = runWrk(server.url, { seconds: 8 });
    for (let i = 1; i <= 5; i++) {
      server.signal('SIGHUP');
      await until(() => reloadsDone(server.output) >= i, 20_000, `reload ${i} to complete`);
    }
    const result = await load;
    expect(result.requests).toBeGreaterThan(1000);
    expect(result.non2xx, result.raw).toBe(0);
    expect(result.socketErrors, result.raw).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
  });

  it('loses zero requests while --max-requests recycles workers', async () => {
    const dir = appDir(HELLO);
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--max-requests', '1000', '--max-requests-jitter', '100', 'app.mjs:app']);
    const result = await runWrk(server.url, { seconds: 6 });
    const recycled = (server.output().match(/Replacing worker \d+: max_requests/g) ?? []).length;
    expect(recycled).toBeGreaterThanOrEqual(2);
    expect(result.non2xx, result.raw).toBe(0);
    expect(result.socketErrors, result.raw).toEqual({ connect: 0, read: 0, write: 0, timeout: 0 });
  });
});
