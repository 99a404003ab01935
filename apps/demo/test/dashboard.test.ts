// The demo stack end to end: `nodicorn stack up -d` on the real stack file (free ports, a temp state
// dir), the three frameworks answering through the proxy over TLS, and the dashboard in Chromium
// showing a crashed worker replaced.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, NODICORN_BIN, onCleanup, request, runCleanups, tempDir } from '@nodicorn/testkit';

afterEach(runCleanups);

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url));
const STACK_FILE = join(DEMO_DIR, 'nodicorn.stack.mjs');
const CHROMIUM = '/usr/bin/chromium';
const FRAMEWORKS = ['express', 'koa', 'hono'] as const;

interface RunningStack {
  readonly https: string;
  readonly http: string;
  readonly stateDir: string;
  /** The generated certificate: requests verify TLS against it instead of turning checks off. */
  readonly ca: Buffer;
}

/**
 * Starts the demo stack detached. The stack file is used as is through a two-line wrapper that only
 * moves the state dir into a temp dir and pins each server's chdir to apps/demo.
 */
async function upStack(): Promise<RunningStack> {
  const dir = tempDir('ndd-');
  const stateDir = join(dir, 'state');
  const file = join(dir, 'nodicorn.stack.mjs');
  writeFileSync(
    file,
    `import demo from ${JSON.stringify(STACK_FILE)};\n` +
      `export default { ...demo, stateDir: ${JSON.stringify(stateDir)}, servers: Object.fromEntries(Object.entries(demo.servers).map(([name, s]) => [name, { ...s, chdir: ${JSON.stringify(DEMO_DIR)} }])) };\n`,
  );
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const env = { ...process.env, HTTPS_PORT: String(httpsPort), HTTP_PORT: String(httpPort) };
  const stack = (...args: string[]) => spawnSync(process.execPath, [NODICORN_BIN, 'stack', ...args, '--file', file], { encoding: 'utf8', env, timeout: 150_000 });

  // Registered before `up` so a half-started stack is stopped too: through the stack first, then
  // every part's process group by pid, in case `down` could not reach them.
  let parts: number[] = [];
  onCleanup(() => {
    stack('down');
    for (const pid of parts) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  });
  const up = stack('up', '-d');
  const state = existsSync(join(stateDir, 'stack.json'))
    ? (JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as { supervisorPid: number; parts: { pid: number }[] })
    : null;
  if (state) parts = [state.supervisorPid, ...state.parts.map((p) => p.pid)];
  expect(up.status, `${up.stdout}\n${up.stderr}`).toBe(0);
  expect(up.stdout).toContain(`https://localhost:${httpsPort}`);
  return {
    https: `https://localhost:${httpsPort}`,
    http: `http://localhost:${httpPort}`,
    stateDir,
    ca: readFileSync(join(stateDir, 'tls/localhost-cert.pem')),
  };
}

function httpsGet(url: string, ca: Buffer, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('demo stack', () => {
  it('serves the same API on Express, Koa and Hono behind the TLS proxy, and redirects plain HTTP', async () => {
    const stack = await upStack();
    for (const fw of FRAMEWORKS) {
      const info = await httpsGet(`${stack.https}/${fw}/api/info`, stack.ca);
      expect(info.status).toBe(200);
      // scheme and client are what each framework believes behind the proxy (its trust handling)
      expect(JSON.parse(info.body)).toMatchObject({ framework: fw, scheme: 'https', client: '127.0.0.1', worker: expect.any(Number) });
      const stats = JSON.parse((await httpsGet(`${stack.https}/${fw}/api/stats`, stack.ca)).body) as { name: string; workers: unknown[] };
      expect(stats.name).toBe(`demo-${fw}`);
      expect(stats.workers).toHaveLength(2);
    }
    const download = await httpsGet(`${stack.https}/koa/api/download?mb=3`, stack.ca);
    expect(download.body.length).toBe(3 * 1024 * 1024);
    const redirect = await request({ url: stack.http, path: '/koa/api/info' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`${stack.https}/koa/api/info`);
  });

  it.skipIf(!existsSync(CHROMIUM))('the dashboard shows every server live and a crashed worker replaced', async () => {
    const stack = await upStack();
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    onCleanup(() => browser.close());
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${stack.https}/`);
    // The proxy's https listener speaks HTTP/2 to the browser (nginx `listen … ssl; http2 on;`);
    // the dashboard's live updates below then run over it, and any WebSocket over HTTP/1.1 beside it.
    const protocol = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as unknown as { nextHopProtocol: string }).nextHopProtocol);
    expect(protocol).toBe('h2');

    // Each card says which worker answered its info request, over https, and lists two live workers.
    for (const fw of FRAMEWORKS) {
      await page.waitForFunction((f) => document.querySelector(`#server-${f} .whoami`)?.getAttribute('data-scheme') === 'https', fw, { timeout: 20_000 });
      await page.waitForFunction((f) => document.querySelectorAll(`#server-${f} .workers tbody tr[data-pid]`).length === 2, fw, { timeout: 20_000 });
    }
    const answered = await page.evaluate(async (fws) => Promise.all(fws.map(async (fw) => (await (await fetch(`/${fw}/api/info`)).json()) as { framework: string })), [...FRAMEWORKS]);
    expect(answered.map((a) => a.framework)).toEqual([...FRAMEWORKS]);

    // Crash a koa worker from its button: the master replaces it, and the new pid shows on the page.
    const pidsOf = () => page.$$eval('#server-koa .workers tbody tr', (rows) => rows.map((row) => (row as HTMLElement).dataset.pid));
    const before = await pidsOf();
    await page.click('#server-koa button[data-action="crash"]');
    await page.waitForSelector('#log li:has-text("koa crash")', { timeout: 20_000 });
    await page.waitForFunction(
      (old) => {
        const rows = [...document.querySelectorAll<HTMLElement>('#server-koa .workers tbody tr')];
        return rows.length === 2 && rows.some((row) => !old.includes(row.dataset.pid));
      },
      before,
      { timeout: 30_000 },
    );
    const after = await pidsOf();
    expect(after.filter((pid) => !before.includes(pid))).toHaveLength(1);
    expect(await page.locator('#log li', { hasText: 'booted' }).count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });
});
