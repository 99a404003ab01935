import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { Pool } from 'undici';
import type { ServerAddress } from '../settings/addresses.js';
import type { BalanceMethod, HealthCheckSpec, StickySpec, UpstreamServerSpec, UpstreamSpec } from '../settings/upstreams.js';
import { HealthChecks } from './health-check.js';

export interface GroupOptions {
  readonly connections: number;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxFails: number;
  readonly failTimeoutMs: number;
}

/** What a balancing method may look at: the client's address (ip_hash) and its cookies (sticky). */
export interface PickContext {
  readonly clientAddress?: string;
  readonly cookie?: string | string[];
}

/** One upstream server: its keep-alive pool, nginx's passive-health counters and the active check's verdict. */
export class UpstreamServer {
  readonly address: ServerAddress;
  readonly pool: Pool;
  readonly weight: number;
  readonly backup: boolean;
  /** nginx `down`: never picked. */
  readonly retired: boolean;
  /** The sticky cookie's value for this server: md5 of its address, as nginx Plus writes it. */
  readonly id: string;
  /** Requests (and WebSocket tunnels) in flight, for least_conn. */
  active = 0;
  /** Smooth weighted round-robin's running weight (nginx's current_weight). */
  currentWeight = 0;
  /** Set by the active health check; a server failing it is never picked, not even as a last resort. */
  healthy = true;
  #fails = 0;
  #windowStart = 0;
  #downUntil = 0;
  readonly #maxFails: number;
  readonly #failTimeoutMs: number;

  constructor(
    spec: UpstreamServerSpec | ServerAddress,
    options: GroupOptions,
  ) {
    const s: UpstreamServerSpec = 'address' in spec ? spec : { address: spec, weight: 1, backup: false, down: false };
    this.address = s.address;
    this.weight = s.weight;
    this.backup = s.backup;
    this.retired = s.down;
    this.#maxFails = s.maxFails ?? options.maxFails;
    this.#failTimeoutMs = s.failTimeout === undefined ? options.failTimeoutMs : s.failTimeout * 1000;
    this.id = createHash('md5').update(s.address.label).digest('hex');
    const address = s.address;
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

  /** In service: not `down`, passing its active check, and not taken out by passive failures. */
  usable(now: number): boolean {
    return !this.retired && this.healthy && !this.downUntil(now);
  }

  /** nginx max_fails/fail_timeout: enough failures inside one window take the server out for fail_timeout. */
  failed(now: number): void {
    if (this.#maxFails === 0) return;
    if (now - this.#windowStart > this.#failTimeoutMs) [this.#fails, this.#windowStart] = [0, now];
    if (++this.#fails >= this.#maxFails) [this.#downUntil, this.#fails] = [now + this.#failTimeoutMs, 0];
  }

  succeeded(): void {
    this.#fails = 0;
    this.#downUntil = 0;
  }
}

/**
 * nginx's smooth weighted round-robin (ngx_http_upstream_get_peer): every candidate gains its weight,
 * the heaviest is picked and pays back the total, so weights 5:1:1 give a a b a c a a, never a a a a a b c.
 */
export function smoothWeighted<T extends { weight: number; currentWeight: number }>(candidates: readonly T[]): T | undefined {
  let best: T | undefined;
  let total = 0;
  for (const c of candidates) {
    c.currentWeight += c.weight;
    total += c.weight;
    if (!best || c.currentWeight > best.currentWeight) best = c;
  }
  if (best) best.currentWeight -= total;
  return best;
}

/** nginx least_conn: fewest active requests per unit of weight; ties go round-robin by weight. */
export function leastConnected<T extends { weight: number; currentWeight: number; active: number }>(candidates: readonly T[]): T | undefined {
  let tied: T[] = [];
  for (const c of candidates) {
    const first = tied[0];
    // a/wa < b/wb without division, as nginx compares them.
    if (!first || c.active * first.weight < first.active * c.weight) tied = [c];
    else if (c.active * first.weight === first.active * c.weight) tied.push(c);
  }
  return tied.length > 1 ? smoothWeighted(tied) : tied[0];
}

/**
 * The bytes nginx's ip_hash hashes: the first three octets of an IPv4 address (a client keeps its
 * server across its /24), all sixteen of an IPv6 one; an IPv4-mapped IPv6 address counts as IPv4.
 */
export function ipHashKey(address: string | undefined): number[] {
  if (!address) return [];
  const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv4(v4)) return v4.split('.').slice(0, 3).map(Number);
  if (!isIPv6(address)) return [];
  const [head, tail = ''] = address.split('::') as [string, string?];
  const groups = (part: string) => (part ? part.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const words = address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return words.flatMap((w) => {
    const n = parseInt(w, 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * nginx's ip_hash walk (ngx_http_upstream_get_ip_hash_peer): hash the key into the weighted list of
 * every primary server, and rehash on an unusable one, up to 20 times, before falling back to
 * round-robin. Because the list keeps servers that are down, a client keeps its server when
 * another one leaves.
 */
export function ipHashPick<T extends { weight: number }>(servers: readonly T[], key: readonly number[], ok: (s: T) => boolean): T | undefined {
  const totalWeight = servers.reduce((n, s) => n + s.weight, 0);
  let hash = 89;
  for (let tries = 0; tries < 20; tries++) {
    for (const byte of key) hash = (hash * 113 + byte) % 6271;
    let w = hash % totalWeight;
    let i = 0;
    while (w >= servers[i]!.weight) w -= servers[i++]!.weight;
    if (ok(servers[i]!)) return servers[i];
  }
  return undefined;
}

/** The value of cookie `name` in a Cookie header (or h2's split Cookie fields). */
function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of (Array.isArray(header) ? header.join('; ') : header).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A named pool of servers, picked by the upstream's balancing method, skipping servers out of service. */
export class UpstreamGroup {
  readonly servers: readonly UpstreamServer[];
  readonly balance: BalanceMethod;
  readonly sticky: StickySpec | null;
  readonly #primaries: readonly UpstreamServer[];
  readonly #backups: readonly UpstreamServer[];
  readonly #healthCheck: HealthCheckSpec | null;
  #checks: HealthChecks | null = null;

  constructor(
    readonly name: string,
    spec: UpstreamSpec | readonly ServerAddress[],
    options: GroupOptions,
  ) {
    const servers = 'servers' in spec ? spec.servers : spec;
    this.servers = servers.map((s) => new UpstreamServer(s, options));
    this.balance = 'balance' in spec ? spec.balance : 'round_robin';
    this.sticky = 'sticky' in spec ? spec.sticky : null;
    this.#primaries = this.servers.filter((s) => !s.backup);
    this.#backups = this.servers.filter((s) => s.backup);
    this.#healthCheck = 'healthCheck' in spec ? spec.healthCheck : null;
  }

  /** Starts the upstream's active health checks, if it has any; they stop when the group closes. */
  startHealthChecks(log: (message: string) => void): void {
    if (!this.#healthCheck || this.#checks) return;
    this.#checks = new HealthChecks(this.servers, this.#healthCheck, this.name, log);
    this.#checks.start();
  }

  /**
   * The server for a request, not yet tried for it. A sticky cookie naming a usable server wins;
   * otherwise the balancing method picks among usable primaries, then usable backups (nginx's
   * order). When none is usable, the untried server that passive failures took out and that is
   * back soonest is tried anyway, as nginx does, so a one-server upstream is never declared dead
   * by its own errors; a server failing its active check or marked `down` never is.
   */
  pick(tried: ReadonlySet<UpstreamServer> | null, now = Date.now(), context?: PickContext): UpstreamServer | undefined {
    const open = (s: UpstreamServer) => !tried?.has(s) && s.usable(now);
    if (this.sticky && context) {
      const id = cookieValue(context.cookie, this.sticky.cookie);
      const pinned = id ? this.servers.find((s) => s.id === id) : undefined;
      if (pinned && open(pinned)) return pinned;
    }
    if (this.balance === 'ip_hash') {
      const hashed = ipHashPick(this.#primaries, ipHashKey(context?.clientAddress), open);
      if (hashed) return hashed;
    }
    for (const tier of [this.#primaries, this.#backups]) {
      const candidates = tier.filter(open);
      if (candidates.length === 0) continue;
      return this.balance === 'least_conn' ? leastConnected(candidates) : smoothWeighted(candidates);
    }
    let fallback: UpstreamServer | undefined;
    for (const server of this.servers) {
      if (tried?.has(server) || server.retired || !server.healthy) continue;
      if (!fallback || server.downUntil(now) < fallback.downUntil(now)) fallback = server;
    }
    return fallback;
  }

  /** The Set-Cookie that pins the client to `server`, or null when it already is (or nothing is sticky). */
  stickyCookie(server: UpstreamServer, context: PickContext): string | null {
    const sticky = this.sticky;
    if (!sticky || cookieValue(context.cookie, sticky.cookie) === server.id) return null;
    return `${sticky.cookie}=${server.id}; Path=${sticky.path}; HttpOnly${sticky.maxAge === null ? '' : `; Max-Age=${sticky.maxAge}`}`;
  }

  /** Lets in-flight requests finish, then closes every connection. */
  async close(): Promise<void> {
    this.#checks?.stop();
    await Promise.allSettled(this.servers.map((s) => s.pool.close()));
  }
}
