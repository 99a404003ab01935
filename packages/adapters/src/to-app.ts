import type { AdapterOptions, App, RequestListener } from './app.js';
import { NotAnAppError } from './errors.js';
import { fromExpress } from './express.js';
import { fromFastify } from './fastify.js';
import { fromFetch, fromHono } from './fetch.js';
import { fromKoa } from './koa.js';
import { rebind } from './lifespan.js';
import { fromHttpServer } from './http-server.js';
import { fromListener } from './listener.js';
import { fromNest } from './nest.js';
import { detectShape } from './shapes.js';

const HOOKS = ['upgrade', 'startup', 'shutdown', 'serve'] as const;

/** Checks an App's optional members, so a typo'd export fails at load rather than on first use. */
function checkApp(app: App): App {
  for (const hook of HOOKS) {
    const value: unknown = app[hook];
    if (value !== undefined && typeof value !== 'function') {
      throw new NotAnAppError(app, `an App whose ${hook} is a function (or absent)`, `${hook} is a ${typeof value}`);
    }
  }
  return app;
}

/**
 * Turns whatever a module exported into an App, detected by shape (no framework is imported):
 * an App object (re-bound to `options` if an adapter built it without them), an Express app, a Koa
 * app, a Hono app, an object or function with `fetch`, or a plain `(req, res)` listener.
 * Anything else throws NotAnAppError saying what was found and what is accepted.
 */
export function toApp(exported: unknown, options: AdapterOptions = {}): App {
  switch (detectShape(exported)) {
    case 'app':
      return rebind(checkApp(exported as App), options);
    case 'nest':
      return fromNest(exported as Parameters<typeof fromNest>[0], options);
    case 'server':
      return fromHttpServer(exported as Parameters<typeof fromHttpServer>[0], options);
    case 'express':
      return fromExpress(exported as Parameters<typeof fromExpress>[0], options);
    case 'koa':
      return fromKoa(exported as Parameters<typeof fromKoa>[0], options);
    case 'fastify':
      return fromFastify(exported as Parameters<typeof fromFastify>[0], options);
    case 'hono':
      return fromHono(exported as Parameters<typeof fromHono>[0], options);
    case 'fetch':
      return fromFetch(exported as Parameters<typeof fromFetch>[0], options);
    case 'listener':
      return fromListener(exported as RequestListener, options);
    case undefined:
      throw new NotAnAppError(exported);
  }
}
