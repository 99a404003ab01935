import { ProxyError } from '../errors.js';
import type { ListenSpec } from '../settings/addresses.js';
import type { ProxyConfig } from '../settings/resolve.js';

/**
 * The environment variable a proxy worker's plan travels in. The master resolves and checks the
 * config once (and again on HUP) and every worker it then forks runs exactly that: a worker never
 * re-reads a config file that may have changed since, and the variable is passed with the fork, so
 * workers of two generations never read each other's plan, and nothing is left on disk to clean up.
 */
export const PROXY_WORKER_ENV = 'NODICORN_PROXY_WORKER';

/** What a proxy worker runs: the resolved config, what each inherited socket is, and the certificate files. */
export interface ProxyWorkerPlan {
  readonly config: ProxyConfig;
  /** One per socket the master bound, in the order the worker inherits them (host names resolved). */
  readonly sockets: readonly ListenSpec[];
  /** The certificate the master loaded or generated; workers only read it. */
  readonly tls: { readonly certPath: string; readonly keyPath: string } | null;
}

type UpstreamOf<M> = M extends ReadonlyMap<string, infer V> ? V : never;

/** The plan as JSON holds it: the upstreams Map as its entries, everything else as is (plain data). */
interface WirePlan {
  readonly config: Omit<ProxyConfig, 'upstreams'> & { upstreams: [string, UpstreamOf<ProxyConfig['upstreams']>][] };
  readonly sockets: readonly ListenSpec[];
  readonly tls: ProxyWorkerPlan['tls'];
}

export function encodeWorkerPlan(plan: ProxyWorkerPlan): string {
  const { settings, listeners, routes, hosts, defaultHost, cwd, upstreams } = plan.config;
  const wire: WirePlan = { config: { settings, listeners, routes, hosts, defaultHost, cwd, upstreams: [...upstreams] }, sockets: plan.sockets, tls: plan.tls };
  return JSON.stringify(wire);
}

export function decodeWorkerPlan(text: string | undefined): ProxyWorkerPlan {
  if (!text) throw new ProxyError('ERR_PROXY_WORKER', `No ${PROXY_WORKER_ENV} in the environment: createProxyApp() is the worker side of \`nodicorn proxy --workers N\`, which starts it; run that instead.`);
  let wire: WirePlan;
  try {
    wire = JSON.parse(text) as WirePlan;
  } catch (err) {
    throw new ProxyError('ERR_PROXY_WORKER', `${PROXY_WORKER_ENV} is not the JSON plan nodicorn proxy writes (${(err as Error).message}).`);
  }
  return { config: { ...wire.config, upstreams: new Map(wire.config.upstreams) }, sockets: wire.sockets, tls: wire.tls };
}
