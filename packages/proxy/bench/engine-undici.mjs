// The bare undici contender: one Pool to the Unix socket and pool.dispatch() straight into the
// response, the least any undici-based proxy can do per request.
//   node engine-undici.mjs SOCKET  -> prints "Listening at: http://127.0.0.1:PORT"
import http from 'node:http';
import { createRequire } from 'node:module';

const { Pool } = createRequire(new URL('../package.json', import.meta.url))('undici');
const pool = new Pool('http://localhost', { socketPath: process.argv[2], connections: 128 });
const server = http.createServer((req, res) => {
  pool.dispatch({ path: req.url, method: req.method, headers: { host: req.headers.host ?? 'localhost' } }, {
    onConnect() {},
    onHeaders(status, raw) {
      const headers = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i].toString();
        if (!/^(connection|keep-alive|transfer-encoding)$/i.test(name)) headers.push(name, raw[i + 1].toString());
      }
      res.writeHead(status, headers);
      return true;
    },
    onData(chunk) {
      res.write(chunk);
      return true;
    },
    onComplete() {
      res.end();
    },
    onError() {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    },
  });
});
server.listen(0, '127.0.0.1', () => console.log(`Listening at: http://127.0.0.1:${server.address().port}`));
