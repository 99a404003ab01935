// Each framework's hello world on its own server, the way its docs start it: Express's and Koa's
// app.listen(), Fastify's and Nest's listen(), @hono/node-server's serve() for Hono and fetch handlers.
// Resolves with the port once listening.
import { serve } from '@hono/node-server';

export const KINDS = ['express', 'koa', 'fastify', 'nest-express', 'nest-fastify', 'hono', 'fetch'];

export async function listenOwn(kind, port = 0, host = '127.0.0.1') {
  const { app } = await import(`./apps/${kind}.mjs`);
  switch (kind) {
    case 'express':
    case 'koa':
      return new Promise((resolve) => {
        const server = app.listen(port, host, () => resolve(server.address().port));
      });
    case 'fastify':
      await app.listen({ port, host });
      return app.server.address().port;
    case 'nest-express':
    case 'nest-fastify':
      await app.listen(port, host);
      return app.getHttpServer().address().port;
    default:
      return new Promise((resolve) => serve({ fetch: app.fetch, port, hostname: host }, (info) => resolve(info.port)));
  }
}
