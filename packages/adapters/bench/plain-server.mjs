// The baseline: one framework's hello world on its own node:http server, the way its docs start it
// (Express's and Koa's app.listen, @hono/node-server's serve for Hono and fetch handlers).
// Usage: node plain-server.mjs express|koa|hono|fetch — prints "listening PORT".
import http from 'node:http';
import { serve } from '@hono/node-server';

const kind = process.argv[2];
const { app } = await import(`./apps/${kind}.mjs`);
const announce = (port) => console.log(`listening ${port}`);

if (kind === 'express') {
  const server = http.createServer(app).listen(0, '127.0.0.1', () => announce(server.address().port));
} else if (kind === 'koa') {
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1', () => announce(server.address().port));
} else {
  serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port));
}
