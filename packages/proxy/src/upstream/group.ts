import { Pool } from 'undici';
import type { ServerAddress } from '../settings/addresses.js';

export interface GroupOptions {
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxFails: number;
  readonly failTimeoutMs: number;
}

/** One upstream server: its keep-alive pool and nginx's passive-health counters. */
export class UpstreamServer {
  readonly pool: Pool;
  #fails = 0;
  #windowStart = 0;
  #downUntil = 0;

  constructor(
    readonly address: ServerAddress,
    private readonly options: GroupOptions,
  ) {
    const origin = address.socketPath ? 'http://localhost' : `http://${address.host!.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    this.pool = new Pool(origin, {
      connections: options.connections,
      pipelining: 1,
      // Under the app server's own keep-alive (Gunicorn's default is 2 s) so the proxy, not the
      // app, closes idle connections and a request rarely races a closing socket.
      keepAliveTimeout: 1000,
      keepAliveMaxTimeout: 1500,
      keepAliveTimeoutThreshold: 500,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.connectTimeoutMs,
      ...(address.socketPath ? { socketPath: address.socketPath } : {}),
    });
  }

  downUntil(now: number): number {
    return this.#downUntil > now ? this.#downUntil : 0;
  }

  /** nginx max_fails/fail_timeout: enough failures inside one window take the server out for fail_timeout. */
  failed(now: number): void {
    const { maxFails, failTimeoutMs } = this.options;
    if (maxFails === 0) return;
    if (now - this.#windowStart > failTimeoutMs) [this.#fails, this.#windowStart] = [0, now];
    if (++this.#fails >= maxFails) [this.#downUntil, this.#fails] = [now + failTimeoutMs, 0];
  }

  succeeded(): void {
    this.#fails = 0;
    this.#downUntil = 0;
  }
}

/** A named pool of servers picked round-robin, skipping servers marked down. */
export class UpstreamGroup {
  readonly servers: readonly UpstreamServer[];
  #next = 0;

  constructor(
    readonly name: string,
    addresses: readonly ServerAddress[],
    options: GroupOptions,
  ) {
    this.servers = addresses.map((a) => new UpstreamServer(a, options));
  }

  /**
   * The next server not yet tried for this request. When every untried server is down, the one back
   * soonest is tried anyway, as nginx does, so a one-server upstream is never declared dead.
   */
  pick(tried: ReadonlySet<UpstreamServer> | null, now = Date.now()): UpstreamServer | undefined {
    const n = this.servers.length;
    let fallback: UpstreamServer | undefined;
    for (let i = 0; i < n; i++) {
      const server = this.servers[(this.#next + i) % n]!;
      if (tried?.has(server)) continue;
      const down = server.downUntil(now);
      if (!down) {
        this.#next = (this.#next + i + 1) % n;
        return server;
      }
      if (!fallback || down < fallback.downUntil(now)) fallback = server;
    }
    return fallback;
  }

  /** Lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    await Promise.allSettled(this.servers.map((s) => s.pool.close()));
  }
}
