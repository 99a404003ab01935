// Baseline: one node:http process. `node raw.mjs PORT` (PORT also from env, as PM2 passes it).
import http from 'node:http';
import { handler } from './routes.mjs';

const port = Number(/^\d+$/.test(process.argv[2] ?? "") ? process.argv[2] : process.env.PORT);
http.createServer(handler).listen(port, '127.0.0.1');
