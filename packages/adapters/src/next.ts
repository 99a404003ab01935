import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { AdapterOptions, App } from './app.js';
import { normaliseForwarded } from './forwarded.js';
import { markRebindable } from './lifespan.js';

/** The part of Next's custom-server API (`next(options)`, 13 to 16) the adapter uses. */
interface NextServerLike {
  prepare(): Promise<void>;
  getRequestHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  getUpgradeHandler(): (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
  close?(): Promise<void>;
  /** Next 13.4–16's custom server: puts its router's upgrade handling on `httpServer` (otherwise done on the first request). */
  setupWebSocketHandler?(server: unknown): void;
}
type NextFactory = (options: { dev: boolean; dir: string; customServer?: boolean; httpServer?: unknown; quiet?: boolean }) => NextServerLike;

const CONFIG = /^next\.config\.(js|mjs|cjs|ts|mts)$/;

/** A Next.js app directory: one with a production build (`.next/BUILD_ID`) or a `next.config.*`. */
export function isNextDir(dir: string): boolean {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return false;
  return existsSync(join(dir, '.next', 'BUILD_ID')) || readdirSync(dir).some((name) => CONFIG.test(name));
}

/** `next`, resolved from the app's own directory, so the app's copy serves it; loaded only at startup. */
async function loadNext(dir: string): Promise<NextFactory> {
  let entry: string;
  try {
    entry = createRequire(join(dir, 'package.json')).resolve('next');
  } catch (err) {
    throw new Error(`${dir} is a Next.js app directory, but no \`next\` package resolves from it: install next in the app (npm install next) and run \`next build\``, { cause: err });
  }
  const mod = (await import(pathToFileURL(entry).href)) as { default?: NextFactory } & NextFactory;
  return typeof mod.default === 'function' ? mod.default : mod;
}

/**
 * Serves a built Next.js app (16, the version tested; pages and app router alike) from its directory,
 * as Next's custom-server recipe does: `startup` makes `next({ dev: false, dir })` and awaits
 * `prepare()`, which needs a `next build` first (without one, the worker fails to boot with Next's own
 * message). Requests go to its request handler, upgrades to its upgrade handling, `shutdown` awaits
 * `close()`.
 *
 * Next believes X-Forwarded-* from anyone and fills in those absent from the socket; with
 * `options.trustProxy` they are removed from requests of untrusted peers first (as for a plain
 * listener), so what API routes and middleware read follows --forwarded-allow-ips.
 */
export function fromNextDir(dir: string, options: AdapterOptions = {}): App {
  const trust = options.trustProxy;
  let server: NextServerLike | undefined;
  let handler: ReturnType<NextServerLike['getRequestHandler']> | undefined;
  let upgrade: ReturnType<NextServerLike['getUpgradeHandler']> | undefined;
  // Next's custom server does its upgrade handling (external rewrites proxied, dev HMR) as an
  // `upgrade` listener on the http server it is given: an unlistened one of its own, which upgrades
  // are emitted on here. Given none, it would hook onto the server the first request came in on
  // (the worker's own) and see every upgrade twice; `getUpgradeHandler()` is, in production, the
  // render server's no-op, kept as the fallback for a Next without the listener.
  const httpServer = createServer();
  const served: App = {
    handle(req, res) {
      if (trust) normaliseForwarded(req, trust, 'x-forwarded-for');
      return handler!(req, res);
    },
    upgrade(req, socket, head) {
      if (trust) normaliseForwarded(req, trust, 'x-forwarded-for');
      if (httpServer.listenerCount('upgrade') > 0) httpServer.emit('upgrade', req, socket, head);
      else upgrade!(req, socket, head).catch(() => socket.destroy());
    },
    async startup() {
      const next = await loadNext(dir);
      server = next({ dev: false, dir, httpServer });
      await server.prepare();
      server.setupWebSocketHandler?.(httpServer);
      handler = server.getRequestHandler();
      upgrade = server.getUpgradeHandler();
    },
    shutdown: async () => void (await server?.close?.()),
  };
  return markRebindable(served, options, (o) => fromNextDir(dir, o));
}
