// A Next.js production build served from its directory (`nodicorn DIR`): the minimal pages-router app
// in fixtures/next-app is copied and built with `next build` in beforeAll, then put through the same
// conformance suite as every other kind. The copy sits inside this package so `next`, `react` and
// `react-dom` resolve from it as they would in an app.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCleanups, startNodicorn } from '@nodicorn/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { fetchText } from './http.js';
import { conformance } from './conformance.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NEXT_BIN = createRequire(import.meta.url).resolve('next/dist/bin/next');
let dir = '';

/** Copies a directory tree (fs.cpSync is still experimental on Node 20). */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) copyTree(join(from, entry.name), join(to, entry.name));
    else copyFileSync(join(from, entry.name), join(to, entry.name));
  }
}
let echo: WebSocketServer | undefined;

beforeAll(async () => {
  // The WebSocket echo server Next's rewrite of /ws proxies upgrades to (its port is fixed at build time).
  echo = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((resolve) => echo!.once('listening', resolve));
  dir = mkdtempSync(join(HERE, '.next-build-'));
  copyTree(join(HERE, 'fixtures/next-app'), dir);
  await promisify(execFile)(process.execPath, [NEXT_BIN, 'build'], {
    cwd: dir,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NEXT_WS_ECHO_PORT: String((echo.address() as AddressInfo).port) },
    timeout: 120_000,
  });
}, 130_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => (echo ? echo.close(resolve) : resolve(undefined)));
});

conformance('next', () => ({ chdir: dir, app: '.' }));

describe('Next.js app directory', () => {
  afterEach(runCleanups);

  it('renders its page in every worker of a 2-worker nodicorn, detected from the directory alone', async () => {
    const server = await startNodicorn(['-w', '2', '--dispatch', 'round-robin', '-b', '127.0.0.1:0', dir]);
    const pids = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const page = await fetchText({ url: server.url }, '/');
      expect(page.status).toBe(200);
      pids.add(/hello from next, pid (?:<!-- -->)?(\d+)/.exec(page.body)?.[1] ?? 'none');
    }
    expect(pids.size, [...pids].join(', ')).toBe(2);
  });
});
