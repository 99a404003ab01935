import { createRequire } from 'node:module';

type NodeServer = typeof import('@hono/node-server');

let loaded: NodeServer | undefined;

/**
 * @hono/node-server, loaded on first use rather than imported: its entry imports `hono/ws`, and a
 * worker serving Express or Koa must not load Hono. Required (its CommonJS build) so that `toApp`
 * stays synchronous.
 */
export function nodeServer(): NodeServer {
  return (loaded ??= createRequire(import.meta.url)('@hono/node-server') as NodeServer);
}
