import type { IncomingMessage } from 'node:http';
import { isHttp2, refuseHttp2Request } from '../http2/request.js';

/**
 * Host as RFC 9110 §7.2 allows it: uri-host [ ":" port ], where uri-host is an IP-literal
 * (`[v6]` or `[vF.x]`), an IPv4 address or a reg-name (unreserved / pct-encoded / sub-delims,
 * RFC 3986 §3.2.2). So `a b`, `evil/../x`, `x@y` and an empty value are refused.
 */
const HOST = /^(?:\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[\w\-.~!$&'()*+,;=:]+)\]|(?:[\w\-.~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::\d{0,5})?$/;

/** Why a request is refused before it is routed: the status, and whether the connection must close. */
export interface Refusal {
  readonly status: number;
  /** Headers the status requires (405 must carry Allow, RFC 9110 §15.5.6). */
  readonly headers?: Record<string, string>;
}

const VERSION_REFUSED: Refusal = { status: 505 };
const BAD: Refusal = { status: 400 };
const CODING_REFUSED: Refusal = { status: 501 };
const URI_TOO_LONG: Refusal = { status: 414 };
const FIELD_TOO_LARGE: Refusal = { status: 431 };
/**
 * nginx's `large_client_header_buffers 4 8k`: a request line or one header field longer than a
 * buffer is refused at the edge (414, and 431 where nginx says 400), so an upstream with a smaller
 * limit never has to answer for it, and its error page never reaches the client as the proxy's.
 */
export const MAX_LINE_BYTES = 8 * 1024;
const TRACE_REFUSED: Refusal = { status: 405, headers: { allow: 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS' } };

/**
 * The checks llhttp leaves to the server (it already refuses control characters in field values,
 * duplicate Content-Length, CL with TE and obs-fold). Every refusal closes the connection: after a
 * request the proxy will not forward, it cannot know where the next one starts (RFC 9112 §9.6).
 * One pass over rawHeaders, no allocation on the common path.
 */
export function refuseRequest(req: IncomingMessage): Refusal | null {
  if (isHttp2(req)) return refuseHttp2Request(req, HOST) ?? (req.method === 'TRACE' ? TRACE_REFUSED : null);
  // RFC 9112 §2.5: only HTTP/1.x is spoken here; llhttp accepts `HTTP/2.0` and `HTTP/0.9` lines.
  const v = req.httpVersion;
  if (v !== '1.1' && v !== '1.0') return VERSION_REFUSED;
  // Method, target and version with their two spaces: the request line as it was sent.
  if (req.method!.length + req.url!.length + 10 > MAX_LINE_BYTES) return URI_TOO_LONG;
  const raw = req.rawHeaders;
  let hosts = 0;
  let host = '';
  let codings = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // `Name: value` as on the wire.
    if (name.length + raw[i + 1]!.length + 2 > MAX_LINE_BYTES) return FIELD_TOO_LARGE;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1]!;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings++;
    }
  }
  // RFC 9112 §3.2: more than one Host, or none on HTTP/1.1, or an invalid one: 400.
  if (hosts > 1 || (hosts === 0 && v === '1.1') || (hosts === 1 && !HOST.test(host))) return BAD;
  // RFC 9112 §6.1/§7: the proxy decodes `chunked` and nothing else (nginx answers 501 likewise);
  // `identity, chunked`, stacked or repeated codings could frame differently upstream.
  if (codings > 1) return BAD;
  if (codings === 1 && req.headers['transfer-encoding']!.trim().toLowerCase() !== 'chunked') return CODING_REFUSED;
  // nginx refuses TRACE (405): it reflects the request, cookies and credentials included (XST).
  if (req.method === 'TRACE') return TRACE_REFUSED;
  return null;
}
