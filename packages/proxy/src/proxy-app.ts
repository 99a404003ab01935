import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';
import { Compression } from './compress/policy.js';
import { sendError } from './error-page.js';
import { admit } from './flow/connection-queue.js';
import { refuseRequest } from './flow/request-checks.js';
import { forward, type ForwardEnv } from './forward/forward.js';
import { forwardWebSocket, rejectUpgrade } from './forward/websocket.js';
import { fieldCount, isHttp2, requestHost } from './http2/request.js';
import { formatAccessLine, type AccessLogWriter, type Exchange } from './logging/access-log.js';
import type { ProxyConfig } from './settings/resolve.js';
import { StaticMount } from './static/serve-static.js';
import { clientAddress, type TrustMatcher } from './traffic/client-address.js';
import { RouteGuard, type Passage } from './traffic/route-guard.js';
import { clientCertRejected } from './tls/client-cert.js';
import { UpstreamGroup } from './upstream/group.js';
import { normaliseHost, ServerNames } from './vhosts/server-names.js';
import { certKeyOf, TOP_LEVEL_CERT, VirtualServers } from './vhosts/virtual-servers.js';

type Target = { readonly prefix: string; readonly group: UpstreamGroup; readonly guard: RouteGuard | null; readonly mount?: undefined } | { readonly prefix: string; readonly mount: StaticMount; readonly group?: undefined };

/** One virtual server's routes, and the certificate its https connections present. */
interface Server {
  readonly targets: readonly Target[];
  readonly certKey: string;
}

/** Everything a request reads, built whole from one config and swapped whole on reload. */
interface Runtime {
  readonly config: ProxyConfig;
  readonly servers: VirtualServers<Server>;
  /** More than one certificate: an HTTP/2 request may arrive on a connection whose one does not cover it. */
  readonly severalCerts: boolean;
  readonly groups: readonly UpstreamGroup[];
  readonly env: ForwardEnv;
  /** --trusted-proxies, for the client address access rules and limits see; null trusts none. */
  readonly trust: TrustMatcher | null;
  /** Names a redirect may use: --server-name and every host block's names, wildcards included. */
  readonly redirectNames: ServerNames<true>;
  readonly fallbackName: string;
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/i;
const HSTS = ['strict-transport-security', 'max-age=31536000; includeSubDomains'];
const NONE: readonly string[] = [];

function buildRuntime(config: ProxyConfig, errorLog: (message: string) => void, healthLog: (message: string) => void): Runtime {
  const s = config.settings;
  const groups = new Map<string, UpstreamGroup>();
  for (const [name, spec] of config.upstreams) {
    groups.set(name, new UpstreamGroup(name, spec, {
      connections: s.upstreamConnections,
      connectTimeoutMs: s.connectTimeout * 1000,
      timeoutMs: s.upstreamTimeout * 1000,
      maxFails: s.maxFails,
      failTimeoutMs: s.failTimeout * 1000,
    }));
  }
  for (const group of groups.values()) group.startHealthChecks(healthLog);
  const compression = s.gzip
    ? new Compression({ types: s.gzipTypes, minLength: s.gzipMinLength, levels: { gzip: s.gzipCompLevel, brotli: s.brotliCompLevel, zstd: s.zstdCompLevel } })
    : null;
  const servers = new VirtualServers<Server>(config, (block) => ({
    certKey: block.certKey,
    targets: block.routes.map((r): Target => (r.kind === 'static' ? { prefix: r.prefix, mount: new StaticMount(r.prefix, r.dir, compression) } : { prefix: r.prefix, group: groups.get(r.upstream)!, guard: r.traffic ? new RouteGuard(r.prefix, r.traffic, errorLog) : null })),
  }));
  const redirectNames = new ServerNames<true>();
  for (const n of [...s.serverName, ...config.hosts.flatMap((h) => h.names)]) redirectNames.add(n, true);
  const exactName = [...s.serverName, ...config.hosts.flatMap((h) => h.names)].find((n) => !n.startsWith('*') && !n.startsWith('.'));
  const trustList = s.trustedProxies.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  const matches = trustList.length ? proxyaddr.compile(trustList) : null;
  return {
    config,
    servers,
    severalCerts: config.hosts.some((h) => certKeyOf(h.tlsCert, h.tlsKey) !== TOP_LEVEL_CERT),
    groups: [...groups.values()],
    trust: matches,
    redirectNames,
    fallbackName: exactName?.toLowerCase() ?? 'localhost',
    env: {
      maxBody: s.maxBody,
      requestBuffering: s.requestBuffering,
      proxyBuffering: s.proxyBuffering,
      bufferSize: s.bufferSize,
      maxTempFileSize: s.maxTempFileSize,
      trusted: matches ? (a) => a !== '' && matches(a, 0) : () => false,
      clientAddress: (req) => clientAddress(req, matches),
      defaultHost: s.serverName[0] ?? 'localhost',
      compression,
      errorLog,
      clientCertHeaders: s.tlsVerifyClient === 'optional',
    },
  };
}

/**
 * The routing decision is made on the decoded, dot-normalised path, as nginx matches locations,
 * so `/api/../admin` is routed as `/admin`; the request still goes upstream as the client wrote it.
 */
function routingPath(pathname: string): string | null {
  if (!/%|\/\.|\/\/|\\/.test(pathname)) return pathname;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  return posix.normalize(decoded.replace(/\\/g, '/'));
}

function matchTarget(targets: readonly Target[], path: string): Target | undefined {
  for (const t of targets) {
    const p = t.prefix;
    if (p === '/' || path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47)) return t;
  }
  return undefined;
}

export interface ProxyAppDeps {
  readonly accessLog: AccessLogWriter;
  /** The port of the https listener, for redirects (undefined until bound, or without one). */
  readonly httpsPort: () => number | undefined;
  /** Where a 502/504's cause goes (rate-limited by the caller); nowhere when not given. */
  readonly errorLog?: (message: string) => void;
  /** Where active health checks report a server leaving or rejoining service; the error log when not given. */
  readonly healthLog?: (message: string) => void;
}

/**
 * The proxy as an App (`handle`, `upgrade`): routes by longest path prefix to a static mount or an
 * upstream group. It holds no listeners, so nodicorn's master could run it pre-forked like any app.
 */
export class ProxyApp {
  #rt: Runtime;
  #draining = false;
  readonly tunnels = new Set<Duplex>();

  constructor(
    config: ProxyConfig,
    private readonly deps: ProxyAppDeps,
  ) {
    this.#rt = this.#build(config);
  }

  #build(config: ProxyConfig): Runtime {
    const errorLog = this.deps.errorLog ?? (() => {});
    return buildRuntime(config, errorLog, this.deps.healthLog ?? errorLog);
  }

  get config(): ProxyConfig {
    return this.#rt.config;
  }

  /** Swaps in a new config; requests in flight finish on the old upstream pools, which then close. */
  async reload(config: ProxyConfig): Promise<void> {
    const old = this.#rt;
    this.#rt = this.#build(config);
    await Promise.all(old.groups.map((g) => g.close()));
  }

  /** From now on every response closes its connection (graceful stop). */
  drain(): void {
    this.#draining = true;
  }

  async close(): Promise<void> {
    for (const t of this.tunnels) t.destroy();
    await Promise.all(this.#rt.groups.map((g) => g.close()));
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const log = this.deps.accessLog;
    const ex: Exchange = { start: process.hrtime.bigint(), remote: log.enabled ? (req.socket.remoteAddress ?? '-') : '-', bytes: 0, upstreamAddr: '', upstreamStatus: '', upstreamTime: '' };
    // HTTP/2 streams are concurrent by design (bounded by max_concurrent_streams), not pipelined:
    // each one runs at once, and a reset stream closes its response like a gone client.
    if (isHttp2(req)) {
      if (log.enabled) res.once('close', () => log.append(formatAccessLine(req, res, ex)));
      return this.#serve(req, res, ex);
    }
    admit({
      req,
      res,
      run: () => {
        if (log.enabled) res.once('close', () => log.append(formatAccessLine(req, res, ex)));
        this.#serve(req, res, ex);
      },
      // Never started: logged as 499 (nginx's "client closed request") and dropped.
      abandon: () => {
        if (log.enabled) log.append(formatAccessLine(req, res, ex));
      },
    });
  };

  #serve(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    const rt = this.#rt;
    if (this.#draining) res.shouldKeepAlive = false;
    // maxHeadersCount is 0 (unlimited) so the proxy sees every field and can answer 431 (RFC 6585)
    // instead of Node silently dropping the excess.
    if (fieldCount(req) > rt.config.settings.maxHeaders) return sendError(res, 431, { close: true });
    const refused = refuseRequest(req);
    if (refused) return sendError(res, refused.status, { close: true, headers: refused.headers });
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47) return sendError(res, 400, { close: true });
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    if (!encrypted && rt.config.settings.redirectHttps) {
      const location = this.#redirectLocation(req, rt);
      // With the small page nginx's `return 308` sends too, for a client that shows the body.
      if (location !== null) return sendError(res, 308, { headers: { location } });
    }
    if (encrypted && rt.env.clientCertHeaders && clientCertRejected(req.socket as TLSSocket)) return sendError(res, 400, { close: true });
    const server = rt.servers.find(routingHost(req));
    // RFC 9113 §9.1.1: a browser may reuse (coalesce) an h2 connection for another name its
    // certificate seemed to cover; when that name's server presents another certificate, 421
    // Misdirected Request makes it open a connection of its own (RFC 9110 §15.5.20).
    if (rt.severalCerts && encrypted && isHttp2(req) && rt.servers.find((req.socket as TLSSocket).servername).certKey !== server.certKey) return sendError(res, 421);
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const target = route(server.targets, pathname);
    if (target === null) return sendError(res, 400);
    const extra = encrypted && rt.config.settings.hsts && !LOOPBACK_HOST.test(hostName(req)) ? HSTS : NONE;
    if (!target) return sendError(res, 404);
    if (target.group) {
      const { group, guard } = target;
      if (!guard) return forward(req, res, ex, group, rt.env, extra);
      return guard.admit({
        req,
        client: clientAddress(req, rt.trust),
        onEnd: (fn) => res.once('close', fn),
        pass: () => forward(req, res, ex, group, rt.env, extra, guard.dropsAuthorization),
        refuse: (status, headers) => sendError(res, status, { headers }),
      } satisfies Passage);
    }
    if (!pathname.startsWith(target.prefix)) return sendError(res, 404);
    target.mount.serve(req, res, pathname, q < 0 ? '' : url.slice(q), extra, ex);
  }

  /** Node asks before reading a body sent with `Expect: 100-continue`: refuse an oversized one unread. */
  checkContinue = (req: IncomingMessage, res: ServerResponse): void => {
    const max = this.#rt.env.maxBody;
    if (max && Number(req.headers['content-length']) > max) return sendError(res, 413, { close: true });
    res.writeContinue();
    this.handle(req, res);
  };

  upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const rt = this.#rt;
    if (this.#draining) return rejectUpgrade(socket, 503, 'Service Unavailable');
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400, 'Bad Request');
    if (req.rawHeaders.length > rt.config.settings.maxHeaders * 2) return rejectUpgrade(socket, 431, 'Request Header Fields Too Large');
    const refused = refuseRequest(req);
    if (refused) return rejectUpgrade(socket, refused.status, STATUS_CODES[refused.status] ?? 'Bad Request');
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47) return rejectUpgrade(socket, 400, 'Bad Request');
    const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
    // nginx's `return 308` runs before proxy_pass for upgrades too: no 101 over cleartext.
    if (!encrypted && rt.config.settings.redirectHttps) {
      const location = this.#redirectLocation(req, rt);
      if (location !== null) return rejectUpgrade(socket, 308, 'Permanent Redirect', { location });
    }
    if (encrypted && rt.env.clientCertHeaders && clientCertRejected(socket as TLSSocket)) return rejectUpgrade(socket, 400, 'Bad Request');
    const q = url.indexOf('?');
    const target = route(rt.servers.find(routingHost(req)).targets, q < 0 ? url : url.slice(0, q));
    if (target === null) return rejectUpgrade(socket, 400, 'Bad Request');
    if (!target?.group) return rejectUpgrade(socket, 404, 'Not Found');
    const { group, guard } = target;
    const tunnel = () =>
      forwardWebSocket(req, socket, head, group, { proto: encrypted ? 'https' : 'http', trusted: rt.env.trusted, defaultHost: rt.env.defaultHost, dropAuthorization: guard?.dropsAuthorization, clientCertHeaders: rt.env.clientCertHeaders }, rt.config.settings.websocketTimeout * 1000, this.tunnels, group.sticky || group.balance === 'ip_hash' ? { clientAddress: rt.env.clientAddress(req), cookie: req.headers.cookie } : undefined);
    if (!guard) return tunnel();
    // An upgrade is a request like any other to the route's limits and access rules (nginx runs the
    // same phases before proxy_pass); limit_conn holds its count while the tunnel is open.
    guard.admit({
      req,
      client: clientAddress(req, rt.trust),
      onEnd: (fn) => socket.once('close', fn),
      pass: tunnel,
      refuse: (status, headers) => rejectUpgrade(socket, status, STATUS_CODES[status] ?? 'Error', headers),
    });
  };

  /**
   * The 308 target on the https listener, on a configured server name (the client's Host only
   * when a --server-name or host block name covers it), so a forged Host can never turn the proxy
   * into an open redirect. A Host under a wildcard (`*.shop.example`) is kept: the operator has
   * declared every such name theirs and this proxy serves it over https too, where sending every
   * subdomain to one fixed name would break them. Null without an https listener.
   */
  #redirectLocation(req: IncomingMessage, rt: Runtime): string | null {
    const port = this.deps.httpsPort();
    if (port === undefined) return null;
    const asked = normaliseHost(requestHost(req) ?? '');
    const name = asked !== '' && rt.redirectNames.match(asked) ? asked : rt.fallbackName;
    const host = name.includes(':') ? `[${name}]` : name;
    return `https://${host}${port === 443 ? '' : `:${port}`}${req.url}`;
  }
}

/**
 * The target for a path, for requests and upgrades alike; null for a path that cannot be decoded.
 * A path whose raw form is under a static mount stays with that mount even when normalising moves
 * it elsewhere (`/static/..%2fapp.mjs`): the mount refuses it rather than the upstream receiving a
 * traversal it might honour.
 */
function route(targets: readonly Target[], pathname: string): Target | undefined | null {
  const path = routingPath(pathname);
  if (path === null) return null;
  const target = matchTarget(targets, path);
  if (path !== pathname) {
    const raw = matchTarget(targets, pathname);
    if (raw?.mount) return raw;
  }
  return target;
}

/** The name a request is routed by: `:authority` for HTTP/2 (RFC 9113 §8.3.1), else Host. */
function routingHost(req: IncomingMessage): string | undefined {
  return isHttp2(req) ? ((req.headers[':authority'] as string | undefined) ?? req.headers.host) : req.headers.host;
}

function hostName(req: IncomingMessage): string {
  const host = requestHost(req) ?? '';
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
}
