import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { certificateOf, type ClientCertificate } from './client-certificate.js';

export type Trust = (address: string | undefined) => boolean;

/** The first comma-separated value of a header, trimmed; undefined when absent or empty. */
export function firstValue(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (!text) return undefined;
  const comma = text.indexOf(',');
  const value = (comma === -1 ? text : text.slice(0, comma)).trim();
  return value || undefined;
}

function splitList(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const text = Array.isArray(header) ? header.join(',') : header;
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * The X-Forwarded-For entries that can be believed, client first: walking from the peer leftwards
 * through the header, every hop vouched for by a trusted address, up to and including the first
 * untrusted one (the client as the nearest trusted proxy saw it). Entries left of that were written
 * by whoever the client is and are dropped. Empty when the peer itself is not trusted.
 * This is proxy-addr's rule, so Express (`req.ip`), Koa (`ctx.ip` after `normaliseForKoa`) and
 * `clientInfo()` agree on the client.
 */
export function trustedChain(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: Trust): string[] {
  if (!trust(peer)) return [];
  const hops = splitList(forwardedFor);
  let start = hops.length - 1;
  while (start > 0 && trust(hops[start])) start--;
  return hops.slice(Math.max(0, start));
}

/** The client's address: the first believable X-Forwarded-For entry, else the peer's own address. */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trust: Trust): string | undefined {
  return trustedChain(peer, forwardedFor, trust)[0] ?? peer;
}

/** The client as a trusted proxy describes it, or as the socket shows it behind an untrusted peer. */
export interface ClientInfo {
  /** The client's IP address; undefined for a Unix-socket peer with no X-Forwarded-For. */
  readonly address: string | undefined;
  /** `https` or `http` (or what a trusted X-Forwarded-Proto says), lower case. */
  readonly scheme: string;
  /** The host the client asked for (trusted X-Forwarded-Host, else Host), with any port. */
  readonly host: string | undefined;
  /**
   * Over TLS to this server (--certfile): the peer's client certificate, as --cert-reqs judged it.
   * Absent over plain HTTP; a proxy that terminates TLS in front sends none of its client's.
   */
  readonly certificate?: ClientCertificate | undefined;
}

/**
 * Reads the client from a Node request under a trust decision, as Express does with `trust proxy`:
 * X-Forwarded-For/-Proto/-Host count only when the peer is trusted.
 */
export function clientInfoFrom(incoming: IncomingMessage, trust: Trust | undefined): ClientInfo {
  const socket = incoming.socket as Partial<TLSSocket> | null;
  const peer = socket?.remoteAddress;
  const own = socket?.encrypted ? 'https' : 'http';
  const headers = incoming.headers;
  const tls = socket?.encrypted ? { certificate: certificateOf(incoming) } : {};
  if (!trust || !trust(peer)) return { address: peer, scheme: own, host: headers.host, ...tls };
  return {
    address: clientAddress(peer, headers['x-forwarded-for'], trust),
    scheme: firstValue(headers['x-forwarded-proto'])?.toLowerCase() ?? own,
    host: firstValue(headers['x-forwarded-host']) ?? headers.host,
    ...tls,
  };
}

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
const kTrusted = Symbol('nodicorn.adapters.peerTrusted');

/** The trust decision for a request's peer, made once per connection: parsing the address is not free. */
function peerTrusted(req: IncomingMessage, trust: Trust): boolean {
  const socket = req.socket as IncomingMessage['socket'] & { [kTrusted]?: boolean };
  return (socket[kTrusted] ??= trust(socket.remoteAddress));
}

/**
 * Sets (or, with `value` undefined, removes) headers in `req.rawHeaders` too: fetch bridges such as
 * React Router's (node-fetch-server) build their Headers from the raw list, not from `req.headers`.
 */
function rewriteRaw(req: IncomingMessage, names: readonly string[], value?: string): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  let replaced = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!names.includes(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
    else if (value !== undefined && !replaced) {
      kept.push(raw[i]!, value);
      replaced = true;
    }
  }
  req.rawHeaders = kept;
}

/**
 * Makes a request safe for an app that believes X-Forwarded-* from anyone (Koa with `proxy = true`,
 * a plain listener, a meta-framework's handler):
 * from an untrusted peer the headers go (with the app's `proxyIpHeader`); from a trusted one the
 * X-Forwarded-For list is cut to its believable part, so the app names the same client as Express's
 * `req.ip` would.
 */
export function normaliseForwarded(req: IncomingMessage, trust: Trust, ipHeader: string): void {
  const headers = req.headers;
  // Most requests carry no forwarding header at all: nothing to strip or cut, no address to judge.
  if (headers['x-forwarded-for'] === undefined && headers['x-forwarded-proto'] === undefined && headers['x-forwarded-host'] === undefined && headers[ipHeader] === undefined) return;
  if (!peerTrusted(req, trust)) {
    for (const name of FORWARDED_HEADERS) delete headers[name];
    delete headers[ipHeader];
    rewriteRaw(req, [...FORWARDED_HEADERS, ipHeader]);
    return;
  }
  const list = headers[ipHeader];
  if (typeof list === 'string' && list.includes(',')) {
    headers[ipHeader] = trustedChain(req.socket.remoteAddress, list, trust).join(', ');
    rewriteRaw(req, [ipHeader], headers[ipHeader]);
  }
}
