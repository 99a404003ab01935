import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCEPTED_KINDS } from '@nodicorn/adapters';
import { NODICORN_BIN, childPids, onCleanup, runCleanups, startNodicorn } from '@nodicorn/testkit';
import { appDir, BASIC_APP } from './fixtures.js';

afterEach(runCleanups);

/** Runs nodicorn to completion (bounded) and returns its exit code and output. */
function runToExit(args: readonly string[], timeoutMs = 30_000, env: NodeJS.ProcessEnv = process.env) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [NODICORN_BIN, ...args], { encoding: 'utf8', timeout: timeoutMs, env });
  return { code: result.status, output: `${result.stdout}${result.stderr}`, ms: Date.now() - started };
}

/** Node >= 22.18 and 23.6 run .ts files by stripping their types (process.features.typescript). */
const STRIPS_TYPES = Boolean(Reflect.get(process.features, 'typescript'));

/** The output's lines that are not routine INFO lines of the master. */
const errorLines = (output: string) => output.split('\n').filter((l) => l && !/\[(INFO|DEBUG)\]/.test(l));

describe('nodicorn APP: an app that cannot boot', () => {
  it('exits 3 within 5 s when the module throws at import, with the message, and never respawns', async () => {
    const dir = appDir({ 'app.mjs': `throw new Error('database URL missing');` });
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:app'], { waitReady: false });
    expect(await server.exited(5000)).toBe(3);
    expect(server.output()).toMatch(/App module .*app\.mjs threw while being imported: Error: database URL missing/);
    expect(server.output()).toMatch(/Worker failed to boot: halting/);
    // Not a signal, so not said as one ("Handling signal: worker failed to boot").
    expect(server.output()).toMatch(/\[INFO\] Stopping: Worker failed to boot\. Graceful stop/);
    expect(server.output()).not.toMatch(/Handling signal: (worker|app)/);
    expect(server.output().match(/Booting worker/g)).toHaveLength(2);
  });

  it('shows where a syntax error is, as node does: in the entry, in a module it imports, in CommonJS', () => {
    const dir = appDir({
      'esm.mjs': `export const app = 1;\nconst = 3;\n`,
      'uses.mjs': `import './esm.mjs';\nexport const app = () => undefined;\n`,
      'old.cjs': `module.exports = {\n  app: ,\n};\n`,
      'runtime.mjs': `export const app = 1;\nnull.boom;\n`,
    });
    const esm = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'esm.mjs:app']);
    expect(esm.code).toBe(3);
    expect(esm.output).toMatch(/threw while being imported: SyntaxError: Unexpected token '='\n.*esm\.mjs:2\nconst = 3;\n +\^/);
    const nested = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'uses.mjs:app']);
    expect(nested.code).toBe(3);
    expect(nested.output).toMatch(/uses\.mjs threw while being imported: SyntaxError: Unexpected token '=' \(in a module .*uses\.mjs imports; run node on it to see where\)/);
    const cjs = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'old.cjs:app']);
    expect(cjs.output).toMatch(/SyntaxError: Unexpected token ','\n.*old\.cjs:2\n {2}app: ,/);
    const runtime = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'runtime.mjs:app']);
    expect(runtime.output).toMatch(/TypeError: Cannot read properties of null \(reading 'boom'\) \(at file:\/\/.*runtime\.mjs:2:6\)/);
  });

  it.skipIf(STRIPS_TYPES)('says which Node runs a .ts entry, or how to build it, on a Node that cannot strip types', () => {
    const dir = appDir({ 'app.ts': `export const app = (_req: unknown, res: { end(s: string): void }) => res.end('typed');\n` });
    const run = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'app:app']);
    expect(run.code).toBe(4);
    expect(run.output).toMatch(/app\.ts is TypeScript, which Node\.js v\d+\.\d+\.\d+ cannot run directly\. Run it on Node\.js >= 22\.18 .* or compile it \(tsc\)/);
  });

  it.skipIf(!STRIPS_TYPES)('serves a .ts entry on a Node that strips types', async () => {
    const dir = appDir({ 'app.ts': `export const app = (_req: unknown, res: { end(s: string): void }) => res.end('typed');\n` });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', 'app.ts:app']);
    const { request } = await import('@nodicorn/testkit');
    expect((await request({ url: server.url })).body).toBe('typed');
  });

  it('exits 4 when the export is missing or not an app, naming the file, export, what was found and every kind it could be', () => {
    const dir = appDir();
    const missing = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:nope']);
    expect(missing.code).toBe(4);
    expect(missing.output).toMatch(/app\.mjs has no export "nope" \(its exports: .*app.*\)/);
    const wrong = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs:notAnApp']);
    expect(wrong.code).toBe(4);
    expect(wrong.output).toMatch(/app\.mjs:notAnApp is not an app: expected one of: .*found a number \(42\)/);
    for (const kind of ACCEPTED_KINDS) expect(wrong.output, 'names each kind and what to export for it').toContain(kind);
  });

  it('exits 3 when a Next.js app directory has no next of its own to serve it, saying so', () => {
    const dir = appDir({ 'next.config.mjs': 'export default {};\n' });
    // npx puts pnpm's hoisted node_modules (which holds next) on NODE_PATH; an app's own resolution has no such path.
    const run = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', '.'], 30_000, { ...process.env, NODE_PATH: '' });
    expect(run.code).toBe(3);
    expect(run.output).toMatch(/is a Next\.js app directory, but no `next` package resolves from it/);
  });

  it('exits 3 when startup() throws', () => {
    const dir = appDir({ 'app.mjs': `export default { handle() {}, startup() { throw new Error('no cache'); } };` });
    const run = runToExit(['--chdir', dir, '-b', '127.0.0.1:0', 'app.mjs']);
    expect(run.code).toBe(3);
    expect(run.output).toMatch(/App startup\(\) failed: Error: no cache/);
  });
});

describe('nodicorn APP: bad input gets one clear line and the right exit code', () => {
  const dir = () => appDir();
  it.each([
    ['an unknown flag', ['--wrokers', '2', 'app.mjs'], 2, /^nodicorn: error: Unknown option --wrokers\. Did you mean --workers\?/],
    ['a malformed bind', ['-b', '127.0.0.1:http', 'app.mjs'], 2, /^nodicorn: error: Invalid --bind "127\.0\.0\.1:http": port "http" is not a number/],
    ['a bad value', ['-w', 'many', 'app.mjs'], 2, /^nodicorn: error: Invalid value for -w \(workers\): expected a whole number/],
    ['no APP', [], 2, /^nodicorn: error: No APP given/],
    ['a missing app module', ['missing.mjs:app'], 4, /^nodicorn: error: App module "missing\.mjs" not found/],
    ['an unknown user', ['-u', 'no-such-user-x', 'app.mjs'], 1, /^nodicorn: error: No such user "no-such-user-x"/],
  ])('%s', (_, args, code, line) => {
    const run = runToExit(['--chdir', dir(), ...args]);
    expect(run.code).toBe(code);
    expect(errorLines(run.output)).toHaveLength(1);
    expect(errorLines(run.output)[0]).toMatch(line);
  });

  it('a port in use: retries, then one error line and exit 1', async () => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    onCleanup(() => void blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const run = runToExit(['--chdir', dir(), '-b', `127.0.0.1:${port}`, 'app.mjs']);
    expect(run.code).toBe(1);
    expect(errorLines(run.output)).toEqual([`nodicorn: error: Cannot bind http://127.0.0.1:${port}: EADDRINUSE (another process is listening there; stop it or choose another --bind).`]);
  });

  it('an unwritable pidfile, and a pidfile naming a live process', () => {
    const d = dir();
    const unwritable = runToExit(['--chdir', d, '-b', '127.0.0.1:0', '-p', '/nonexistent-dir/x.pid', 'app.mjs']);
    expect(unwritable.code).toBe(1);
    expect(errorLines(unwritable.output)).toEqual(['nodicorn: error: Cannot write pidfile /nonexistent-dir/x.pid: ENOENT. Check the directory exists and is writable, or choose another --pid.']);
    const pidfile = join(d, 'app.pid');
    writeFileSync(pidfile, `${process.pid}\n`);
    const alive = runToExit(['--chdir', d, '-b', '127.0.0.1:0', '-p', pidfile, 'app.mjs']);
    expect(alive.code).toBe(1);
    expect(errorLines(alive.output)[0]).toMatch(/Pidfile .*app\.pid names process \d+, which is still running/);
  });

  it('a bind path that is not a socket is refused, and the file is left alone', () => {
    const d = dir();
    const path = join(d, 'important.txt');
    writeFileSync(path, 'keep me');
    const run = runToExit(['--chdir', d, '-b', `unix:${path}`, 'app.mjs']);
    expect(run.code).toBe(1);
    expect(errorLines(run.output)[0]).toMatch(/exists and is not a socket/);
  });

  it('--check-config loads the app and exits 0, or 1 with the reason', () => {
    const d = appDir({ 'app.mjs': BASIC_APP, 'broken.mjs': `throw new Error('bad import')` });
    expect(runToExit(['--chdir', d, '-b', '127.0.0.1:0', '--check-config', 'app.mjs:app']).code).toBe(0);
    const broken = runToExit(['--chdir', d, '-b', '127.0.0.1:0', '--check-config', 'broken.mjs']);
    expect(broken.code).toBe(1);
    expect(broken.output).toMatch(/threw while being imported: Error: bad import/);
  });
});

describe('nodicorn APP: pidfile and privileges', () => {
  it('writes the pidfile and removes it on exit', async () => {
    const d = appDir();
    const pidfile = join(d, 'app.pid');
    const server = await startNodicorn(['--chdir', d, '-b', '127.0.0.1:0', '-p', pidfile, 'app.mjs:app']);
    const { readFileSync, existsSync } = await import('node:fs');
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(server.pid));
    server.signal('SIGTERM');
    await server.exited();
    expect(existsSync(pidfile)).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('runs workers as --user/--group after the master bound as root', async () => {
    const d = appDir();
    const server = await startNodicorn(['--chdir', d, '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', 'app.mjs:app']);
    const { readFileSync } = await import('node:fs');
    const [worker] = childPids(server.pid);
    const status = readFileSync(`/proc/${worker}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+65534\s/m);
    expect(status).toMatch(/^Gid:\s+65534\s/m);
    expect(readFileSync(`/proc/${server.pid}/status`, 'utf8')).toMatch(/^Uid:\s+0\s/m);
  });

  it.skipIf(process.getuid?.() !== 0)('--user nobody with a log in a root-only directory: one line naming the setting, before any worker starts', () => {
    const d = appDir();
    const rootOnly = join(d, 'logs');
    mkdirSync(rootOnly, { mode: 0o700 });
    const run = runToExit(['--chdir', d, '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', '--access-logfile', join(rootOnly, 'access.log'), 'app.mjs:app']);
    expect(run.code).toBe(1);
    expect(errorLines(run.output)).toEqual([
      `nodicorn: error: Cannot open accesslog (--access-logfile) ${join(rootOnly, 'access.log')} as the workers' user (uid 65534, gid 65534): EACCES. Workers run as --user/--group and open it themselves: make the file or its directory writable by them, or log to - (stderr).`,
    ]);
    expect(run.output).not.toMatch(/Booting worker| {4}at /);
    // A directory the workers may write to works, and the file they share with the master is theirs.
    const shared = join(d, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    const ok = spawnSync(process.execPath, [NODICORN_BIN, '--chdir', d, '-b', '127.0.0.1:0', '-u', 'nobody', '-g', 'nogroup', '--error-logfile', join(shared, 'error.log'), '--check-config', 'app.mjs:app'], { encoding: 'utf8', timeout: 30_000 });
    expect(ok.status, ok.stderr).toBe(0);
  });
});
