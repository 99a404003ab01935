// A hand-written App ({ handle, upgrade, startup, shutdown }) under a real nodicorn with two workers:
// startup is awaited before a worker accepts, upgrade gets WebSocket handshakes, and shutdown runs in
// every worker on a graceful stop.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, runCleanups, startNodicorn, tempDir } from '@nodicorn/testkit';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

afterEach(runCleanups);

it('runs startup before accepting, hands upgrades to upgrade, and runs shutdown in each worker on TERM', async () => {
  const log = join(tempDir('ndcl-'), 'shutdown.log');
  const server = await startNodicorn(['-w', '2', '-b', '127.0.0.1:0', '--chdir', FIXTURES, '-e', `SHUTDOWN_LOG=${log}`, 'ws-app.mjs']);
  const pids = new Set<number>();
  for (let i = 0; i < 6; i++) {
    const res = await request({ url: server.url });
    const body = JSON.parse(res.body) as { ready: boolean; pid: number };
    expect(body.ready, 'startup() finished before this worker accepted').toBe(true);
    pids.add(body.pid);
  }

  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/chat`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
  ws.send('hi');
  expect(await reply).toBe('echo: hi');
  const closed = new Promise((resolve) => ws.once('close', resolve));
  ws.close();
  await closed;

  expect(existsSync(log)).toBe(false);
  server.signal('SIGTERM');
  expect(await server.exited()).toBe(0);
  const shutdowns = readFileSync(log, 'utf8').trim().split('\n').map(Number);
  expect(shutdowns).toHaveLength(2);
  for (const pid of pids) expect(shutdowns).toContain(pid);
});
