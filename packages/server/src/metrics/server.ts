import http from 'node:http';
import { NodicornError } from '../errors.js';
import type { Logger } from '../logging/error-log.js';
import { formatBind, parseBind } from '../sockets/bind-spec.js';

export interface MasterEndpoints {
  /** Prometheus text for the whole server. */
  metrics(): string;
  /** Whether the server should get traffic now, and why (see Arbiter.readiness). */
  readiness(): { ready: boolean; detail: string };
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The master's own HTTP endpoints, on their own address (never the app's sockets, so a probe is
 * answered by the master even when every worker is busy): `/metrics` (Prometheus), `/healthz`
 * (liveness: the master's loop answers) and `/readyz` (readiness: 503 while booting or stopping).
 */
export async function startMetricsServer(bind: string, endpoints: MasterEndpoints, log: Logger): Promise<{ close(): void }> {
  const spec = parseBind(bind);
  if (spec.kind !== 'tcp') throw new NodicornError('ERR_BAD_SETTING', `Invalid metrics_bind (--metrics-bind) "${bind}": expected HOST:PORT.`, 2);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(endpoints.metrics());
    } else if (path === '/healthz') {
      res.writeHead(200, TEXT).end('ok\n');
    } else if (path === '/readyz') {
      const { ready, detail } = endpoints.readiness();
      res.writeHead(ready ? 200 : 503, TEXT).end(`${ready ? 'ready' : 'not ready'}: ${detail}\n`);
    } else {
      res.writeHead(404, TEXT).end('Not found: the master serves /metrics, /healthz and /readyz\n');
    }
  });
  // A stopping master keeps answering /readyz with 503 until it exits; probes must not hold it.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new NodicornError('ERR_BIND_FAILED', `Cannot bind --metrics-bind ${bind}: ${err.code ?? err.message}.`)));
    server.listen(spec.port, spec.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : spec.port;
  log.info(`Metrics at: ${formatBind(spec, port)}/metrics (and /healthz, /readyz)`);
  server.unref();
  return { close: () => server.close() };
}
