// The http-proxy-3 contender for the engine decision: the library's documented reverse-proxy setup
// (keep-alive agent to the Unix socket, xfwd headers) with nothing of ours around it. If this bare
// form is slower than the full proxy on undici, http-proxy-3 with every feature can only be slower.
//   node engine-http-proxy-3.mjs SOCKET  -> prints "Listening at: http://127.0.0.1:PORT"
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const socketPath = process.argv[2];
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const proxy = createProxyServer({ target: { socketPath }, agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if (res && 'writeHead' in res && !res.headersSent) res.writeHead(502).end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.listen(0, '127.0.0.1', () => console.log(`Listening at: http://127.0.0.1:${server.address().port}`));
