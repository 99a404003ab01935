import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { clientCertHeaders } from '../tls/client-cert.js';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) and framing the proxy redoes itself: never forwarded in
 * either direction. Content-Length is recomputed from the body actually sent; Expect is answered by
 * the proxy (it sends 100 Continue or 413 itself).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** Written by the proxy from what it saw, never taken from the client (except a trusted chain). */
const OVERWRITTEN = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded', 'content-length', 'expect']);

/** The peer address as nginx's $remote_addr writes it (no IPv4-mapped prefix). */
export function peerAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Header names a Connection field lists are hop-by-hop for this message too. */
function connectionListed(value: string | undefined): Set<string> | null {
  if (!value) return null;
  const names = value.toLowerCase().split(',').map((s) => s.trim()).filter((s) => s && s !== 'close' && s !== 'keep-alive');
  return names.length ? new Set(names) : null;
}

export interface ForwardedFacts {
  readonly proto: 'http' | 'https';
  /** Whether the peer's own X-Forwarded-For may be kept and appended to. */
  readonly trusted: (address: string) => boolean;
  /** Host for X-Forwarded-Host when the client sent none (HTTP/1.0). */
  readonly defaultHost: string;
  /** --tls-verify-client optional: tell the upstream what the client certificate proved. */
  readonly clientCertHeaders?: boolean;
  /** Keep Upgrade/Connection for a WebSocket handshake. */
  readonly upgrade?: boolean;
  /** Leave the client's Authorization out (a route's `auth: { forward: false }`). */
  readonly dropAuthorization?: boolean;
}

/**
 * The request header list sent upstream, as a flat [name, value, …] array (what undici and
 * `writeHead` take without building an object). Names with `_` are dropped, as nginx's
 * `underscores_in_headers off` does: a CGI-style app would read `X_Real_IP` as `X-Real-IP`.
 */
export function upstreamRequestHeaders(req: IncomingMessage, facts: ForwardedFacts): string[] {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  const out: string[] = [];
  let clientChain: string | undefined;
  let authority: string | undefined;
  /** Pseudo-header fields come first and exist only in HTTP/2 (llhttp refuses `:` in a name). */
  let h2 = false;
  let hasHost = false;
  let cookies: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // HTTP/2 pseudo-header fields: :method and :path become the request line undici writes;
    // :authority becomes Host unless the client also sent one (RFC 9113 §8.3.1).
    if (name.charCodeAt(0) === 58) {
      h2 = true;
      if (name === ':authority') authority = raw[i + 1];
      continue;
    }
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.includes('_') || listed?.has(lower)) continue;
    if (lower === 'host') hasHost = true;
    if (facts.dropAuthorization && lower === 'authorization') continue;
    // HTTP/2 may split Cookie into one field per crumb; HTTP/1.1 allows one Cookie field, so
    // they are joined with "; " before forwarding (RFC 9113 §8.2.3).
    if (lower === 'cookie' && h2) {
      (cookies ??= []).push(raw[i + 1]!);
      continue;
    }
    // The proxy's own namespace for client-certificate facts: a client's copy is a forgery.
    if (OVERWRITTEN.has(lower) || lower.startsWith('x-ssl-client-')) {
      if (lower === 'x-forwarded-for') clientChain = clientChain ? `${clientChain}, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (!hasHost && authority !== undefined) out.unshift('host', authority);
  if (cookies) out.push('cookie', cookies.join('; '));
  const peer = peerAddress(req);
  const chain = clientChain && facts.trusted(peer) ? `${clientChain}, ${peer}` : peer;
  out.push('x-forwarded-for', chain, 'x-forwarded-proto', facts.proto, 'x-forwarded-host', req.headers.host ?? authority ?? facts.defaultHost, 'x-real-ip', peer);
  if (facts.clientCertHeaders && facts.proto === 'https') out.push(...clientCertHeaders(req.socket as TLSSocket));
  if (facts.upgrade) out.push('connection', 'upgrade', 'upgrade', 'websocket');
  return out;
}

/**
 * The response header list sent to the client from undici's raw header buffers, hop-by-hop fields
 * removed; also reports the two fields that switch buffering off (nginx honours X-Accel-Buffering
 * and strips it; text/event-stream must stream or SSE breaks).
 */
export function clientResponseHeaders(raw: readonly Buffer[] | readonly string[]): { headers: string[]; stream: boolean; accelBuffering: boolean | undefined } {
  const headers: string[] = [];
  let stream = false;
  let accelBuffering: boolean | undefined;
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toString().toLowerCase();
    if (lower === 'connection') listed = connectionListed(raw[i + 1]!.toString());
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1' as never);
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    const value = raw[i + 1]!.toString('latin1' as never);
    if (lower === 'x-accel-buffering') {
      accelBuffering = !/^no$/i.test(value.trim());
      continue;
    }
    if (lower === 'content-type' && /^\s*text\/event-stream/i.test(value)) stream = true;
    headers.push(name, value);
  }
  return { headers, stream, accelBuffering };
}
