import http from 'node:http';
import type { HealthCheckSpec } from '../settings/upstreams.js';
import type { UpstreamServer } from './group.js';

/** Why a probe failed, or null when it passed. */
export type ProbeResult = string | null;

/**
 * One probe: GET the check's path on a fresh connection (a pooled one would hide a server that
 * stopped accepting), read the body away, and judge the status. Bounded by the check's timeout.
 */
export function probe(server: UpstreamServer, spec: HealthCheckSpec, host: string): Promise<ProbeResult> {
  const { socketPath, host: address, port } = server.address;
  return new Promise((resolve) => {
    const target = spec.port !== null && !socketPath ? { host: address, port: spec.port } : socketPath ? { socketPath } : { host: address, port };
    const req = http.request({ ...target, path: spec.path, method: 'GET', agent: false, headers: { host, 'user-agent': 'nodicorn-health-check', connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      res.on('error', () => {});
      const [lo, hi] = spec.status;
      resolve(status >= lo && status <= hi ? null : `status ${status}, expected ${lo === hi ? lo : `${lo}-${hi}`}`);
    });
    req.setTimeout(spec.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${spec.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message));
    req.end();
  });
}

/**
 * nginx Plus's `health_check` for one upstream: every interval each server is probed; `fall`
 * consecutive failures take it out of service, `rise` consecutive passes bring it back. A server
 * starts in service (nginx Plus without `mandatory`). Each proxy process probes on its own.
 */
export class HealthChecks {
  #timer: NodeJS.Timeout | null = null;
  readonly #streak = new Map<UpstreamServer, number>();
  readonly #inFlight = new Set<UpstreamServer>();

  constructor(
    private readonly servers: readonly UpstreamServer[],
    private readonly spec: HealthCheckSpec,
    /** The Host header probes carry: the upstream's name, as nginx's default `$proxy_host`. */
    private readonly host: string,
    private readonly log: (message: string) => void,
    private readonly probeOnce: typeof probe = probe,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#round();
    this.#timer = setInterval(() => this.#round(), this.spec.intervalMs).unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  #round(): void {
    for (const server of this.servers) {
      // A probe still waiting (a slow server) is not doubled; its timeout ends it.
      if (server.retired || this.#inFlight.has(server)) continue;
      this.#inFlight.add(server);
      void this.probeOnce(server, this.spec, this.host).then((failure) => {
        this.#inFlight.delete(server);
        if (this.#timer) this.record(server, failure);
      });
    }
  }

  /** Counts a result into the server's streak (positive: passes, negative: failures) and flips its state. */
  record(server: UpstreamServer, failure: ProbeResult): void {
    const streak = this.#streak.get(server) ?? 0;
    const next = failure === null ? Math.max(streak, 0) + 1 : Math.min(streak, 0) - 1;
    this.#streak.set(server, next);
    if (server.healthy && -next >= this.spec.fall) {
      server.healthy = false;
      this.log(`upstream server ${server.address.label} failed its health check (GET ${this.spec.path}: ${failure}) ${-next} time${next === -1 ? '' : 's'}; out of service until it passes ${this.spec.rise}`);
    } else if (!server.healthy && next >= this.spec.rise) {
      server.healthy = true;
      this.log(`upstream server ${server.address.label} passed its health check ${next} time${next === 1 ? '' : 's'}; back in service`);
    }
  }
}
