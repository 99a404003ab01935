// The demo stack (`pnpm stack up`): the same API on Express, Koa and Hono, each a nodicorn server
// with two workers on its own Unix socket, and the proxy in front as nginx would be in production:
// TLS, HTTP→HTTPS redirect, the dashboard as static files, one route per framework.
// HTTPS_PORT / HTTP_PORT move the listeners (the end-to-end test picks free ones).
import { fileURLToPath } from 'node:url';

const server = (app) => ({
  app,
  workers: 2,
  timeout: 5, // short, so the "block a worker" scenario shows the master's kill within seconds
  accesslog: '-',
});

export default {
  name: 'demo',
  servers: {
    express: server('src/express-app.mjs:app'),
    koa: server('src/koa-app.mjs:app'),
    hono: server('src/hono-app.mjs:app'),
  },
  proxy: {
    listen: [`https://localhost:${process.env.HTTPS_PORT ?? 8443}`, `http://localhost:${process.env.HTTP_PORT ?? 8080}`],
    redirectHttps: true,
    serverName: ['localhost'],
    // On-the-fly br/gzip for the API's JSON and the dashboard's files (nginx's gzip is off by default too).
    gzip: true,
    // Absolute: relative paths resolve from the stack file that is loaded, and the end-to-end test
    // loads this one through a wrapper in a temp dir.
    static: [{ prefix: '/', dir: fileURLToPath(new URL('public', import.meta.url)) }],
    routes: [
      { prefix: '/express/', upstream: 'express' },
      { prefix: '/koa/', upstream: 'koa' },
      { prefix: '/hono/', upstream: 'hono' },
      { prefix: '/ws', upstream: 'express' }, // the dashboard's live feed
    ],
  },
};
