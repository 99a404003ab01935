import type { ProxyLogger } from '../logging/error-log.js';
import type { ProxyConfig, Route } from '../settings/resolve.js';
import { describeUpstream } from '../settings/upstreams.js';
import type { TlsMaterial } from '../tls/certificates.js';

/**
 * What a starting proxy says after its "Listening at" lines: which certificate it serves (and how to
 * trust the generated one) and where each route goes. Said once, by the one process or the master.
 */
export function logTlsAndRoutes(config: ProxyConfig, tls: TlsMaterial | null, httpsListenUrl: string | undefined, log: ProxyLogger): void {
  const httpsUrl = httpsListenUrl?.replace(/\/\/(127\.0\.0\.1|0\.0\.0\.0|\[::1?\])/, '//localhost');
  if (tls?.selfSigned) {
    const c = tls.selfSigned;
    log.info(`TLS: ${c.generated ? 'generated a' : 'using the'} self-signed development certificate ${c.certPath} (a leaf, not a CA: valid only for localhost, 127.0.0.1, ::1, until ${c.validTo.toISOString().slice(0, 10)})`);
    log.info(`TLS: to trust it (its key cannot sign for any other name), NODE_EXTRA_CA_CERTS=${c.certPath} node ...  or  curl --cacert ${c.certPath} ${httpsUrl ?? 'https://localhost:PORT'}/`);
  } else if (tls) {
    log.info(`TLS: certificate ${tls.certPath}`);
  }
  if (tls) for (const h of config.hosts) if (h.tlsCert) log.info(`TLS: certificate ${h.tlsCert} for ${h.names.join(' ')}`);
  const describe = (r: Route) => `${r.prefix} -> ${r.kind === 'static' ? `static ${r.dir}` : `${r.upstream} (${describeUpstream(config.upstreams.get(r.upstream)!)})`}`;
  for (const r of config.routes) log.info(`Route ${describe(r)}`);
  for (const h of config.hosts) for (const r of h.routes) log.info(`Route ${h.names.join(' ')} ${describe(r)}`);
}
