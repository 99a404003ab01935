// The demo API on Hono 4, mounted under /hono. Hono speaks Fetch: the Node response (for the
// after-the-answer scenarios) is c.env.outgoing, as under @hono/node-server.
import { Hono } from 'hono';
import { Readable } from 'node:stream';
import { clientInfo } from '@nodicorn/adapters';
import { LIMITS, block, bounded, crashAfter, download, info, reloadAfter, slow, stats } from './api.mjs';

const api = new Hono();
api.get('/info', (c) => {
  // Hono has no proxy setting: clientInfo applies the server's trust rule to X-Forwarded-*.
  const { scheme, address } = clientInfo(c.req.raw);
  return c.json(info('hono', { scheme, client: address }));
});
api.get('/stats', async (c) => c.json(await stats()));
api.post('/crash', (c) => c.json(crashAfter(c.env.outgoing)));
api.post('/block', (c) => c.json(block(bounded(c.req.query('seconds'), LIMITS.blockSeconds))));
api.get('/slow', async (c) => c.json(await slow(bounded(c.req.query('ms'), LIMITS.slowMs))));
api.get('/download', (c) => {
  const { body, headers } = download(bounded(c.req.query('mb'), LIMITS.downloadMb));
  return new Response(Readable.toWeb(body), { headers });
});
api.post('/reload', (c) => c.json(reloadAfter(c.env.outgoing)));

export const app = new Hono();
app.route('/hono/api', api);
