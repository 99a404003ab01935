// The demo API on Koa 3, mounted under /koa. Koa has no router of its own; a table keeps the demo
// free of a router dependency.
import Koa from 'koa';
import { LIMITS, block, bounded, crashAfter, download, info, reloadAfter, slow, stats } from './api.mjs';

const PREFIX = '/koa/api';

/** `METHOD /path` → handler(ctx) returning the body (or setting it itself). */
const routes = {
  // ctx.protocol and ctx.ip name the browser: the adapter turns on app.proxy for trusted peers only.
  'GET /info': (ctx) => info('koa', { scheme: ctx.protocol, client: ctx.ip }),
  'GET /stats': () => stats(),
  'POST /crash': (ctx) => crashAfter(ctx.res),
  'POST /block': (ctx) => block(bounded(ctx.query.seconds, LIMITS.blockSeconds)),
  'GET /slow': (ctx) => slow(bounded(ctx.query.ms, LIMITS.slowMs)),
  'GET /download': (ctx) => {
    const { body, headers } = download(bounded(ctx.query.mb, LIMITS.downloadMb));
    ctx.set(headers);
    return body;
  },
  'POST /reload': (ctx) => reloadAfter(ctx.res),
};

export const app = new Koa();
app.use(async (ctx, next) => {
  if (!ctx.path.startsWith(`${PREFIX}/`)) return next();
  const handler = routes[`${ctx.method} ${ctx.path.slice(PREFIX.length)}`];
  if (!handler) return next();
  ctx.body = await handler(ctx);
});
