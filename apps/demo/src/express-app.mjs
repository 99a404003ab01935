// The demo API on Express 5, mounted under /express (the proxy forwards paths as the client wrote
// them). This server also carries the dashboard's WebSocket, /ws.
import express from 'express';
import { LIMITS, block, bounded, crashAfter, download, info, reloadAfter, slow, stats } from './api.mjs';
import { liveUpgrade } from './live.mjs';

const api = express.Router();
// req.protocol and req.ip name the browser, not the proxy: the adapter sets `trust proxy` from the
// server's forwarded_allow_ips, and a Unix-socket peer (the stack's proxy) is trusted.
api.get('/info', (req, res) => res.json(info('express', { scheme: req.protocol, client: req.ip })));
api.get('/stats', async (req, res) => res.json(await stats()));
api.post('/crash', (req, res) => res.json(crashAfter(res)));
api.post('/block', (req, res) => res.json(block(bounded(req.query.seconds, LIMITS.blockSeconds))));
api.get('/slow', async (req, res) => res.json(await slow(bounded(req.query.ms, LIMITS.slowMs))));
api.get('/download', (req, res) => {
  const { body, headers } = download(bounded(req.query.mb, LIMITS.downloadMb));
  res.set(headers);
  body.pipe(res);
});
api.post('/reload', (req, res) => res.json(reloadAfter(res)));

export const app = express();
app.disable('x-powered-by');
app.use('/express/api', api);

const live = liveUpgrade('/ws');
app.upgrade = live.upgrade;
app.shutdown = live.close;
