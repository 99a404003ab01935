import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AccessList } from './access-list.js';
import { basicChallenge, basicCredentials } from './basic-auth.js';
import { HtpasswdFile } from './htpasswd.js';
import { LocalConnectionLimiter, type ConnectionLimiter } from './limit-conn.js';
import { LocalRequestLimiter, type RequestLimiter } from './limit-req.js';
import type { LimitKey, RouteTraffic } from './route-config.js';

/** One exchange passing a route's guard: a request, or a WebSocket upgrade. */
export interface Passage {
  readonly req: IncomingMessage;
  /** The client after trusted-proxy resolution. */
  readonly client: string;
  /** Runs `fn` once when the exchange ends (response or tunnel closed), however it ends. */
  onEnd(fn: () => void): void;
  pass(): void;
  refuse(status: number, headers?: Record<string, string>): void;
}

/** Header values longer than this are hashed before keying a limit, so a key costs bounded memory. */
const MAX_KEY_LENGTH = 64;

function keyOf(key: LimitKey, p: Passage): string {
  if (key.kind === 'addr') return p.client;
  if (key.kind === 'route') return '*';
  const raw = p.req.headers[key.name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return '';
  return value.length > MAX_KEY_LENGTH ? createHash('sha256').update(value).digest('base64') : value;
}

/**
 * A route's traffic control, applied in nginx's phase order: limit_req (which may delay), then
 * limit_conn, then allow/deny, then auth_basic. So a denied client still spends its rate, as in
 * nginx. A request whose limit key is empty (no such header) is not counted, as nginx's.
 */
export class RouteGuard {
  readonly #requests: RequestLimiter | null;
  readonly #connections: ConnectionLimiter | null;
  readonly #access: AccessList | null;
  readonly #users: HtpasswdFile | null;

  constructor(
    readonly prefix: string,
    private readonly traffic: RouteTraffic,
    private readonly errorLog: (message: string) => void,
  ) {
    this.#requests = traffic.limitReq ? new LocalRequestLimiter(traffic.limitReq) : null;
    this.#connections = traffic.limitConn ? new LocalConnectionLimiter(traffic.limitConn.max) : null;
    this.#access = traffic.access.length ? new AccessList(traffic.access) : null;
    this.#users = traffic.auth ? new HtpasswdFile(traffic.auth.file, errorLog) : null;
  }

  /** Whether the client's Authorization is taken off the request sent upstream. */
  get dropsAuthorization(): boolean {
    return this.traffic.auth?.forward === false;
  }

  admit(p: Passage): void {
    const limit = this.traffic.limitReq;
    if (limit && this.#requests) {
      const key = keyOf(limit.key, p);
      if (key !== '') {
        const verdict = this.#requests.take(key, Math.floor(performance.now()));
        if (!verdict.ok) {
          this.errorLog(`limiting requests, excess: ${(verdict.excess / 1000).toFixed(3)} by route ${this.prefix}, client: ${p.client}, request: "${p.req.method} ${p.req.url}"`);
          return p.refuse(limit.status);
        }
        if (verdict.delayMs > 0) {
          // The request waits its turn at the rate (nginx's burst queue); a client that leaves
          // meanwhile ends the wait, and its exchange is logged as 499.
          let timer: NodeJS.Timeout | null = setTimeout(() => {
            timer = null;
            this.#afterRate(p);
          }, verdict.delayMs);
          p.onEnd(() => timer && clearTimeout(timer));
          return;
        }
      }
    }
    this.#afterRate(p);
  }

  #afterRate(p: Passage): void {
    const limit = this.traffic.limitConn;
    if (limit && this.#connections) {
      const key = keyOf(limit.key, p);
      if (key !== '') {
        if (!this.#connections.acquire(key)) {
          this.errorLog(`limiting connections by route ${this.prefix}, client: ${p.client}, request: "${p.req.method} ${p.req.url}"`);
          return p.refuse(limit.status);
        }
        p.onEnd(() => this.#connections!.release(key));
      }
    }
    if (this.#access && !this.#access.allows(p.client)) {
      this.errorLog(`access forbidden by rule, route ${this.prefix}, client: ${p.client}, request: "${p.req.method} ${p.req.url}"`);
      return p.refuse(403);
    }
    if (!this.#users) return p.pass();
    this.#authenticate(p, this.#users);
  }

  #authenticate(p: Passage, users: HtpasswdFile): void {
    const challenge = { 'www-authenticate': basicChallenge(this.traffic.auth!.realm) };
    const credentials = basicCredentials(p.req.headers.authorization);
    if (!credentials) return p.refuse(401, challenge);
    let ended = false;
    p.onEnd(() => (ended = true));
    users.verify(credentials.user, credentials.password).then(
      (ok) => {
        if (ended) return;
        if (ok) return p.pass();
        this.errorLog(`user "${credentials.user}" was not found or its password mismatched, route ${this.prefix}, client: ${p.client}`);
        p.refuse(401, challenge);
      },
      () => !ended && p.refuse(500),
    );
  }
}
