import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, runCleanups, startProcess, tempDir, type Proc } from '@nodicorn/testkit';

// The packages as a stranger gets them: built, packed by the release script, published to a
// throwaway registry, then installed one at a time into an empty directory outside the workspace (so
// nothing resolves through workspace links) and used. Only @nodicorn/* comes from the local registry;
// every other dependency comes from the real npm registry, as it would for a user.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures');
const PACKAGES = ['settings', 'adapters', 'server', 'proxy', 'cli'] as const;
const INSTALL_MS = 120_000;

// The pnpm that runs this suite (`pnpm test`), else the one on PATH.
const PNPM: readonly [string, ...string[]] = process.env.npm_execpath?.includes('pnpm') ? [process.execPath, process.env.npm_execpath] : ['pnpm'];

let work = '';
let registry = '';
let version = '';
const tarballs = new Map<string, string>();
const unpacked = new Map<string, string>();

/**
 * The environment of every child: none of the npm_config_* / pnpm_* variables `pnpm test` sets (the
 * workspace's settings must not reach the consumer's install), no user config, no update notices.
 */
function consumerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(npm_|pnpm_|PNPM_)/i.test(key)) env[key] = value;
  return { ...env, npm_config_userconfig: join(work, 'user.npmrc'), npm_config_update_notifier: 'false', NO_UPDATE_NOTIFIER: '1' };
}

/** Runs a command to completion in its own process group (killed at cleanup); rejects on a non-zero exit. */
async function run(command: string, args: readonly string[], cwd: string, timeoutMs = INSTALL_MS): Promise<string> {
  const proc = startProcess(command, args, { cwd, env: consumerEnv() });
  const code = await proc.exited(timeoutMs);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${proc.output()}`);
  return proc.output();
}

/** An empty project outside the workspace whose .npmrc sends @nodicorn/* to the local registry. */
function consumer(name: string, npmrc: readonly string[] = []): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2)}\n`);
  writeFileSync(join(dir, '.npmrc'), [`@nodicorn:registry=${registry}`, 'registry=https://registry.npmjs.org/', ...npmrc, ''].join('\n'));
  return dir;
}

const npmInstall = (dir: string, ...names: string[]) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), ...names], dir);

/**
 * Stops a served process with TERM, as a user would; resolves with its exit code. Under `npx` or
 * `pnpm exec` the TERM goes to the master (the pid its "Listening at" line names): the wrappers do
 * not pass it on, and exit with the master's code once it is gone.
 */
async function stop(proc: Proc, pid = proc.pid): Promise<number> {
  process.kill(pid, 'SIGTERM');
  return proc.exited(20_000);
}

/** Waits for a nodicorn master's Ready line; returns its port and pid. */
async function ready(proc: Proc): Promise<{ port: number; pid: number }> {
  await proc.waitFor(/\[INFO\] Ready: 1 worker\(s\) serving http:\/\/127\.0\.0\.1:\d+/, 30_000);
  const [, port, pid] = /Listening at: http:\/\/127\.0\.0\.1:(\d+) \((\d+)\)/.exec(proc.output())!;
  return { port: Number(port), pid: Number(pid) };
}

/** The consumer's TypeScript view: strict, NodeNext, declarations checked (no skipLibCheck). */
function typecheck(dir: string, source: string): void {
  writeFileSync(join(dir, 'check.ts'), source);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--lib', 'es2023'];
  execFileSync(process.execPath, [tsc, ...args, '--typeRoots', join(ROOT, 'node_modules/@types'), '--types', 'node', 'check.ts'], { cwd: dir, timeout: 60_000, encoding: 'utf8' });
}

/** Packs every package with the release script and unpacks each tarball for inspection. */
async function pack(): Promise<void> {
  const packed = await run(process.execPath, [join(ROOT, 'scripts/release-pack.mjs'), '--out', join(work, 'tarballs')], ROOT, 60_000);
  version = /packages at (\S+) packed/.exec(packed)![1]!;
  for (const name of PACKAGES) {
    const file = join(work, 'tarballs', `nodicorn-${name}-${version}.tgz`);
    tarballs.set(name, file);
    const dir = join(work, 'unpacked', name);
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['-xzf', file, '-C', dir, '--strip-components=1'], { timeout: 10_000 });
    unpacked.set(name, dir);
  }
}

/** Starts the throwaway registry and returns a publish token for it. */
async function startRegistry(): Promise<string> {
  const dir = join(work, 'registry');
  mkdirSync(dir);
  const verdaccio = startProcess(process.execPath, [join(FIXTURES, 'registry.mjs'), dir], { cwd: dir, env: consumerEnv() });
  registry = (await verdaccio.waitFor(/^registry (http:\/\/127\.0\.0\.1:\d+\/)$/m, 30_000))[1]!;
  // verdaccio's htpasswd plugin creates the user on npm's adduser call and answers with a token.
  const user = await fetch(`${registry}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: `pw-${process.pid}-${Date.now()}` }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await user.json()) as { token: string }).token;
}

beforeAll(async () => {
  // Outside the workspace: a temp dir has no pnpm-workspace.yaml or node_modules above it.
  work = tempDir('ndc-pkg-');
  expect(relative(ROOT, work).startsWith('..')).toBe(true);
  writeFileSync(join(work, 'user.npmrc'), '');
  // `pnpm test` has built already; tsc -b only checks that dist is current and writes nothing then.
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', ROOT], { timeout: 120_000 });
  const [token] = await Promise.all([startRegistry(), pack()]);
  const publishrc = join(work, 'publish.npmrc');
  writeFileSync(publishrc, `${registry.replace(/^http:/, '')}:_authToken=${token}\n`);
  await Promise.all(PACKAGES.map((name) => run('npm', ['publish', tarballs.get(name)!, '--registry', registry, '--userconfig', publishrc], work, 60_000)));
}, 240_000);

afterAll(runCleanups, 30_000);

describe('the packed tarballs', () => {
  it.each(PACKAGES)('@nodicorn/%s has a README, the MIT LICENSE, engines, real versions and what its package.json points at', (name) => {
    const dir = unpacked.get(name)!;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown> & {
      version: string;
      engines?: { node?: string };
      publishConfig?: { access?: string };
      types?: string;
      main?: string;
      bin?: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
      dependencies?: Record<string, string>;
    };
    expect(pkg.version).toBe(version);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(new RegExp(`npm install @nodicorn/${name}`));
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.engines?.node).toBe('>=20.19');
    // A scoped package is published restricted unless it says otherwise.
    expect(pkg.publishConfig).toEqual({ access: 'public' });
    // pnpm pack rewrites workspace:* to the one shared version.
    expect(JSON.stringify(pkg)).not.toMatch(/workspace:/);
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) if (dep.startsWith('@nodicorn/')) expect(range, dep).toBe(version);
    const pointed = [pkg.types, pkg.main, ...Object.values(pkg.bin ?? {}), ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default]))];
    for (const file of pointed) expect(existsSync(join(dir, file!)), `${file}`).toBe(true);

    const files = listFiles(dir);
    expect(files.filter((f) => /\.tsbuildinfo$|\.test\.|(^|\/)test\//.test(f))).toEqual([]);
    // Source maps (and declaration maps) point at src/, which ships.
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] };
      for (const source of sources) expect(existsSync(join(dir, map, '..', source)), `${map} -> ${source}`).toBe(true);
    }
    // No message sends an installed user to a repository path the package does not have.
    for (const js of files.filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(join(dir, js), 'utf8').split('\n').filter((line) => !/^\s*(\/\/|\/?\*)/.test(line));
      expect(code.filter((line) => /docs\/\w+\.md/.test(line)), js).toEqual([]);
    }
  });
});

// Concurrent: each case is mostly waiting on the npm registry (the project caps it at two at a time).
describe.concurrent('installed alone, outside the workspace', () => {
  it('npm install @nodicorn/cli express; npx nodicorn app.js:app serves the Express app', async ({ expect }) => {
    const dir = consumer('cli');
    await npmInstall(dir, `@nodicorn/cli@${version}`, 'express');
    copyFileSync(join(FIXTURES, 'express-app.js'), join(dir, 'app.js'));
    const server = startProcess('npx', ['nodicorn', 'app.js:app', '-b', '127.0.0.1:0'], { cwd: dir, env: consumerEnv() });
    const { port, pid } = await ready(server);
    const res = await request({ url: `http://127.0.0.1:${port}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^hello from express in worker \d+$/);
    expect(res.headers['x-powered-by']).toBe('Express');
    expect(await stop(server, pid), server.output()).toBe(0);
  }, INSTALL_MS + 60_000);

  it('pnpm add @nodicorn/cli express; pnpm exec nodicorn serves it too (strict node_modules)', async ({ expect }) => {
    const dir = consumer('cli-pnpm', [`store-dir=${join(work, 'pnpm-store')}`, `cache-dir=${join(work, 'pnpm-cache')}`]);
    await run(PNPM[0], [...PNPM.slice(1), 'add', `@nodicorn/cli@${version}`, 'express'], dir);
    copyFileSync(join(FIXTURES, 'express-app.js'), join(dir, 'app.js'));
    const server = startProcess(PNPM[0], [...PNPM.slice(1), 'exec', 'nodicorn', 'app.js:app', '-b', '127.0.0.1:0'], { cwd: dir, env: consumerEnv() });
    const { port, pid } = await ready(server);
    const res = await request({ url: `http://127.0.0.1:${port}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^hello from express in worker \d+$/);
    expect(await stop(server, pid), server.output()).toBe(0);
  }, INSTALL_MS + 60_000);

  it('npm install @nodicorn/proxy: runProxy forwards to an upstream and writes X-Forwarded-*', async ({ expect }) => {
    const dir = consumer('proxy');
    await npmInstall(dir, `@nodicorn/proxy@${version}`);
    copyFileSync(join(FIXTURES, 'proxy-standalone.mjs'), join(dir, 'proxy.mjs'));
    typecheck(dir, `import { createLogger, resolveProxyConfig, runProxy, type RunningProxy } from '@nodicorn/proxy';
export const start = async (): Promise<RunningProxy> => runProxy(await resolveProxyConfig(['--upstream', '127.0.0.1:8000']), createLogger());\n`);
    const proxy = startProcess(process.execPath, ['proxy.mjs'], { cwd: dir, env: consumerEnv() });
    const [, url] = await proxy.waitFor(/^proxy (http:\/\/127\.0\.0\.1:\d+)$/m, 30_000);
    const res = await request({ url: url!, path: '/through?x=1' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('upstream saw GET /through?x=1 for 127.0.0.1 via http\n');
    expect(await stop(proxy), proxy.output()).toBe(0);
  }, INSTALL_MS + 60_000);

  it('npm install @nodicorn/server: startMaster serves an app from a script, TERM stops it', async ({ expect }) => {
    const dir = consumer('server');
    await npmInstall(dir, `@nodicorn/server@${version}`);
    copyFileSync(join(FIXTURES, 'server-standalone.mjs'), join(dir, 'serve.mjs'));
    copyFileSync(join(FIXTURES, 'server-app.mjs'), join(dir, 'app.mjs'));
    typecheck(dir, `import { resolveServeSettings, startMaster, type RunningMaster } from '@nodicorn/server';
export const start = async (): Promise<RunningMaster> => startMaster(await resolveServeSettings(['app.mjs:app']));\n`);
    const server = startProcess(process.execPath, ['serve.mjs'], { cwd: dir, env: consumerEnv() });
    const [, url] = await server.waitFor(/^server (http:\/\/127\.0\.0\.1:\d+)$/m, 30_000);
    const res = await request({ url: url! });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^hello from worker \d+\n$/);
    expect(await stop(server), server.output()).toBe(0);
  }, INSTALL_MS + 60_000);
});

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), base) : [relative(base, join(dir, entry.name))],
  );
}
