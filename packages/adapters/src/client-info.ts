import type { IncomingMessage } from 'node:http';
import { certificateOf, type ClientCertificate } from './client-certificate.js';
import { clientInfoFrom, type ClientInfo, type Trust } from './forwarded.js';

// Global symbols: the app may import clientInfo from its own copy of this package while the
// server's copy bridged the request.
const kIncoming = Symbol.for('nodicorn.adapters.incoming');
const kTrust = Symbol.for('nodicorn.adapters.trust');

interface Tagged {
  [kIncoming]?: IncomingMessage;
  [kTrust]?: Trust | undefined;
}

/** Remembers which Node request (and trust decision) a bridged Fetch Request came from. */
export function tagRequest(request: Request, incoming: IncomingMessage, trust: Trust | undefined): void {
  const tagged = request as Tagged;
  tagged[kIncoming] = incoming;
  tagged[kTrust] = trust;
}

/**
 * The client of a request served by `fromFetch`/`fromHono`: its address, scheme and host, honouring
 * X-Forwarded-For/-Proto/-Host only when the peer is trusted (--forwarded-allow-ips; Unix-socket peers
 * are trusted), as Express's `req.ip`/`req.protocol` and Koa's `ctx.ip`/`ctx.protocol` do.
 *
 * In Hono: `clientInfo(c.req.raw)`. For a Request the adapters did not bridge (a copy made with
 * `new Request(…)`, a test calling `app.fetch` directly) there is no socket to ask: the address is
 * undefined and scheme and host come from `request.url`.
 */
export function clientInfo(request: Request): ClientInfo {
  const incoming = (request as Tagged)[kIncoming];
  if (incoming) return clientInfoFrom(incoming, (request as Tagged)[kTrust]);
  const url = new URL(request.url);
  return { address: undefined, scheme: url.protocol.slice(0, -1), host: url.host || undefined };
}

/**
 * The client certificate of a request over the server's own TLS (--certfile with --cert-reqs
 * optional or required): `{ authorized, authorizationError, subject, issuer, fingerprint256 }`,
 * undefined over plain HTTP. Takes any framework's request: a Node `IncomingMessage` (Express `req`,
 * Koa `ctx.req`, Fastify `request.raw`, a plain listener) or a bridged Fetch `Request` (Hono
 * `c.req.raw`, a fetch handler's argument).
 */
export function clientCertificate(request: Request | IncomingMessage): ClientCertificate | undefined {
  const incoming = 'socket' in request ? request : (request as Tagged)[kIncoming];
  return incoming ? certificateOf(incoming) : undefined;
}
