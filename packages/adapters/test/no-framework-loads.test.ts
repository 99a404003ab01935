// The adapters recognise frameworks by shape and must not load one the app does not use: a worker
// serving Express loads no Koa, Hono, Fastify, NestJS or Next; a NestJS app is adapted without loading
// @nestjs, and Next is loaded from the app's directory only in the worker's startup. @hono/node-server (whose entry imports hono/ws) is required
// lazily, on the first fetch-style app.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const DIST = new URL('../dist/index.js', import.meta.url).href;

it('imports no framework in its source, except as types', () => {
  for (const file of readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const text = readFileSync(SRC + file, 'utf8');
    const imports = [...text.matchAll(/^import (?!type )[^;]*? from '([^']+)'/gm)].map((m) => m[1]);
    for (const specifier of imports) expect(specifier, `${file} imports ${specifier}`).toMatch(/^(node:|\.\/)/);
  }
});

it('adapts Express, Koa, NestJS and Next.js apps without loading a framework, and loads @hono/node-server (and with it hono/ws) only once a fetch-style app is adapted', () => {
  const script = `
    import { createRequire } from 'node:module';
    const { toApp, fromNextDir } = await import(${JSON.stringify(DIST)});
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((f) => /hono|koa|express|fastify|@nestjs|[\\/]next[\\/]|socket\\.io/.test(f)).length;
    const expressLike = Object.assign(() => {}, { handle() {}, set() {}, settings: {} });
    toApp(expressLike, { trustProxy: () => true });
    toApp({ callback: () => () => {}, use() {}, middleware: [], proxy: false }, { trustProxy: () => true });
    // A Nest application on Express, duck-typed: adapting it loads neither @nestjs nor anything else.
    toApp({ init() {}, close() {}, listen() {}, getHttpServer: () => ({ emit() {}, listenerCount: () => 0 }), getHttpAdapter: () => ({ getInstance: () => expressLike }) }, { trustProxy: () => true });
    // A Next.js directory is only looked at until its startup() runs.
    fromNextDir(process.cwd(), { trustProxy: () => true });
    const afterNodeApps = loaded();
    toApp({ fetch: () => new Response('') });
    console.log(JSON.stringify([afterNodeApps, loaded() > 0]));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual([0, true]);
});
