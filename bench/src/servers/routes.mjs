// The one app every Node contender serves (raw node:http, node:cluster, PM2, nodicorn), so rows
// differ only in the process model. wsgi_app.py is the same routes for Gunicorn.
const HELLO = Buffer.from('Hello, world!\n');
const K16 = Buffer.alloc(16 * 1024, 'a');
const M1 = Buffer.alloc(1024 * 1024, 'b');
export const SLOW_MS = 20;
/** ~50 KB of JSON that compresses like an API listing (the proxy-gzip scenario). */
export const JSON50K = (() => {
  const items = [];
  let text = '[]';
  for (let i = 0; text.length < 50 * 1024; i++) {
    items.push({ id: i, name: `item ${i}`, tags: ['alpha', 'beta', 'gamma'], price: ((i * 7) % 1000) + 0.99, inStock: i % 3 !== 0 });
    text = JSON.stringify(items);
  }
  return Buffer.from(text);
})();

function send(res, body, type = 'text/plain') {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length });
  res.end(body);
}

/** Burns CPU on the event loop, as a template render or a JSON crunch would. */
function burn(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

export function handler(req, res) {
  const path = req.url.split('?', 1)[0];
  switch (path) {
    case '/16k': return send(res, K16);
    case '/1m': return send(res, M1);
    case '/json50k': return send(res, JSON50K, 'application/json');
    case '/slow': burn(SLOW_MS); return send(res, HELLO);
    case '/upload': {
      let n = 0;
      req.on('data', (chunk) => { n += chunk.length; });
      req.on('end', () => send(res, Buffer.from(`${n}\n`)));
      return;
    }
    default: return send(res, HELLO);
  }
}
