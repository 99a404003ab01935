import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App, RequestListener } from './app.js';

// Frameworks are recognised by shape, never imported: a worker serving an Express app must not load Koa
// or Hono, and the adapters must work with whichever copy of a framework the app itself resolved.

/** The part of an Express app the adapter uses: callable as a listener, with settings. */
export interface ExpressLike {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  handle: (...args: never[]) => unknown;
  set(setting: string, value: unknown): unknown;
  settings: Record<string, unknown>;
}

/** The part of a Koa app the adapter uses. */
export interface KoaLike {
  callback(): RequestListener;
  use: (...args: never[]) => unknown;
  middleware: unknown[];
  proxy: boolean;
  proxyIpHeader?: string;
}

/** A fetch handler: Fetch `Request` in, `Response` out. The second argument carries `{ incoming, outgoing }`. */
export type FetchHandler = (request: Request, env?: never) => Response | Promise<Response>;

/** Anything with a `fetch` handler: a Hono app, `export default { fetch }`, a function with `.fetch`. */
export interface FetchApp {
  fetch: (request: Request, env?: never) => Response | Promise<Response>;
}

/** The part of a Fastify instance (4 or 5) the adapter uses. */
export interface FastifyLike {
  routing(req: IncomingMessage, res: ServerResponse): void;
  ready(): PromiseLike<unknown>;
  close(): PromiseLike<unknown>;
  register: (...args: never[]) => unknown;
  inject: (...args: never[]) => unknown;
  decorateRequest?(name: string, value: { getter(this: unknown): unknown }): unknown;
  hasRequestDecorator?(name: string): boolean;
  /** The http.Server Fastify made for itself; plugins (@fastify/websocket) listen on its `upgrade`. */
  server: { emit(event: string, ...args: unknown[]): boolean; listenerCount(event: string): number };
}

/** The part of a NestJS application (`NestFactory.create()`, 10 and 11) the adapter uses. */
export interface NestLike {
  init(): PromiseLike<unknown>;
  close(): PromiseLike<unknown>;
  /** Nest's platform adapter (ExpressAdapter, FastifyAdapter); `getInstance()` is the framework app. */
  getHttpAdapter(): { getInstance(): unknown };
  /** The http.Server Nest made (never listening here); raw `upgrade` listeners and ws gateways sit on it. */
  getHttpServer(): { emit(event: string, ...args: unknown[]): boolean; listenerCount(event: string): number };
}

/** A `node:http` (or https) Server: what Socket.IO, engine.io and other self-attaching libraries hang off. */
export interface HttpServerLike {
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
  listen: (...args: never[]) => unknown;
  close: (...args: never[]) => unknown;
  address(): unknown;
  listening: boolean;
}

export type Shape = 'app' | 'nest' | 'server' | 'express' | 'koa' | 'fastify' | 'hono' | 'fetch' | 'listener';

type Bag = Record<string, unknown>;
const isFn = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';
const isObjectLike = (value: unknown): value is Bag =>
  value !== null && (typeof value === 'object' || typeof value === 'function');

/** An Express app: a function with `handle`, `set` and a `settings` object (a Router has no settings). */
export function isExpressApp(value: unknown): value is ExpressLike {
  return typeof value === 'function' && isFn((value as unknown as Bag).handle) && isFn((value as unknown as Bag).set) &&
    isObjectLike((value as unknown as Bag).settings);
}

/**
 * A NestJS application: `init()`, `close()`, `getHttpAdapter()`, `getHttpServer()` and `listen()`. A
 * standalone application context (`createApplicationContext`) has no HTTP adapter and is not one.
 */
export function isNestApp(value: unknown): value is NestLike {
  return isObjectLike(value) && isFn(value.init) && isFn(value.close) && isFn(value.getHttpAdapter) && isFn(value.getHttpServer) && isFn(value.listen);
}

/** A Koa app: `callback()`, `use()` and a `middleware` array. */
export function isKoaApp(value: unknown): value is KoaLike {
  return isObjectLike(value) && typeof value !== 'function' && isFn(value.callback) && isFn(value.use) && Array.isArray(value.middleware);
}

/** A Fastify instance: `routing` (what a serverFactory is handed), `ready`, `register`, `inject` and its server. */
export function isFastifyApp(value: unknown): value is FastifyLike {
  return isObjectLike(value) && isFn(value.routing) && isFn(value.ready) && isFn(value.close) && isFn(value.register) && isFn(value.inject) && isObjectLike(value.server);
}

/**
 * A `node:http` Server (made, never listening): `listen`, `close`, `address`, `emit` and a boolean
 * `listening`. Koa and Express apps have `listen` and `emit` too, but no `address` or `listening`.
 */
export function isHttpServer(value: unknown): value is HttpServerLike {
  return isObjectLike(value) && typeof value !== 'function' && isFn(value.listen) && isFn(value.close) && isFn(value.address) && isFn(value.emit) &&
    isFn(value.listenerCount) && typeof value.listening === 'boolean';
}

/** A Hono app: `fetch` plus Hono's router surface (`route()`, a `routes` array). */
export function isHonoApp(value: unknown): value is FetchApp {
  return isObjectLike(value) && isFn(value.fetch) && isFn(value.route) && Array.isArray(value.routes);
}

/** Any object or function carrying a `fetch(request)` handler. */
export function isFetchApp(value: unknown): value is FetchApp {
  return isObjectLike(value) && isFn(value.fetch);
}

/** An App: an object (not a function, which would be a listener or a framework) with `handle`. */
export function isApp(value: unknown): value is App {
  return typeof value === 'object' && value !== null && isFn((value as Bag).handle);
}

/**
 * Which shape a value has, or undefined. Order matters: an Express app is a function with `handle`,
 * so frameworks are matched before the generic shapes, and an explicit App wins over its `fetch`.
 */
export function detectShape(value: unknown): Shape | undefined {
  if (isNestApp(value)) return 'nest';
  if (isExpressApp(value)) return 'express';
  if (isKoaApp(value)) return 'koa';
  if (isFastifyApp(value)) return 'fastify';
  if (isApp(value)) return 'app';
  if (isHttpServer(value)) return 'server';
  if (isHonoApp(value)) return 'hono';
  if (isFetchApp(value)) return 'fetch';
  // A bare function is taken for Node's (req, res) listener: a `(request) => Response` function cannot
  // be told apart by shape, so fetch handlers come wrapped (`fromFetch`) or as `{ fetch }`.
  if (typeof value === 'function') return 'listener';
  return undefined;
}
