import http from 'node:http';
import { NodicornError } from '../errors.js';
import type { Logger } from '../logging/error-log.js';
import { formatBind, parseBind } from '../sockets/bind-spec.js';

/** The master's /metrics endpoint: Prometheus text for the whole server, on its own address. */
export async function startMetricsServer(bind: string, render: () => string, log: Logger): Promise<{ close(): void }> {
  const spec = parseBind(bind);
  if (spec.kind !== 'tcp') throw new NodicornError('ERR_BAD_SETTING', `Invalid metrics_bind (--metrics-bind) "${bind}": expected HOST:PORT.`, 2);
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new NodicornError('ERR_BIND_FAILED', `Cannot bind --metrics-bind ${bind}: ${err.code ?? err.message}.`)));
    server.listen(spec.port, spec.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : spec.port;
  log.info(`Metrics at: ${formatBind(spec, port)}/metrics`);
  server.unref();
  return { close: () => server.close() };
}
