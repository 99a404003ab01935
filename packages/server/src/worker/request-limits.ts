import type { IncomingMessage } from 'node:http';

export interface RequestLimits {
  readonly limitRequestLine: number;
  readonly limitRequestFields: number;
  readonly limitRequestFieldSize: number;
  readonly secureSchemeHeaders: Readonly<Record<string, string>>;
}

export interface Rejection {
  readonly status: 400 | 414 | 431 | 501 | 505;
  readonly reason: string;
}

/**
 * Fields a sender must not put in a trailer (RFC 9110 §6.5.1): framing, routing, authentication,
 * request modifiers and response control. A recipient must not merge them into the header section;
 * nodicorn drops them before the app can read `req.trailers`.
 */
export const FORBIDDEN_TRAILERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'trailer', 'content-encoding', 'content-type', 'content-range',
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'www-authenticate', 'proxy-authenticate',
  'te', 'expect', 'max-forwards', 'range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range',
  'cache-control', 'age', 'expires', 'date', 'location', 'retry-after', 'vary', 'warning', 'connection', 'keep-alive', 'upgrade',
]);

/** Removes forbidden fields from a request's trailers once they have arrived. */
export function dropForbiddenTrailers(req: IncomingMessage): void {
  const raw = req.rawTrailers;
  if (raw.length === 0) return;
  for (const name of Object.keys(req.trailers)) if (FORBIDDEN_TRAILERS.has(name)) delete req.trailers[name];
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!FORBIDDEN_TRAILERS.has(raw[i]!.toLowerCase())) kept.push(raw[i]!, raw[i + 1]!);
  raw.splice(0, raw.length, ...kept);
}

/**
 * RFC 9112 §3.2.2: a server that receives an absolute-form target MUST ignore Host and take the
 * authority from the target. The request is rewritten into origin-form with that Host, so the app
 * sees one consistent request; a scheme other than http(s) or a target that is no URL is refused.
 */
function absoluteForm(req: IncomingMessage, target: string): Rejection | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { status: 400, reason: `request target "${target.slice(0, 80)}" is not a valid absolute URI` };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.host || url.username || url.password) {
    return { status: 400, reason: `request target "${target.slice(0, 80)}" is not an http(s) absolute URI` };
  }
  req.url = `${url.pathname}${url.search}`;
  req.headers.host = url.host;
  const raw = req.rawHeaders;
  const at = raw.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'host');
  if (at >= 0) raw[at + 1] = url.host;
  else raw.push('Host', url.host);
  return null;
}

/** Gunicorn's hard ceilings, used when a limit is set to 0. */
const MAX_REQUEST_LINE = 8190;
const MAX_HEADERS = 32768;

/**
 * What Node's parser lets through but RFC 9112 and Gunicorn refuse, checked before the app sees the
 * request: versions other than 1.0 and 1.1 (505), over-long request lines (414), too many or too large
 * header fields (431), more than one Host or none on HTTP/1.1 (400), targets that are neither
 * origin-form nor absolute-form (400), transfer codings other than exactly `chunked` (501), chunked
 * bodies on HTTP/1.0 (400), and scheme headers from a trusted proxy that contradict each other (400).
 */
export function checkRequest(req: IncomingMessage, limits: RequestLimits, isTrustedPeer: () => boolean): Rejection | null {
  // RFC 9110 §6.2: only HTTP/1.0 and 1.1 are spoken here; Node's parser also takes 0.9 and 2.0 lines.
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return { status: 505, reason: `HTTP/${req.httpVersion} is not supported` };
  const lineLimit = limits.limitRequestLine || MAX_REQUEST_LINE;
  const line = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 11; // "METHOD TARGET HTTP/x.y"
  if (line > lineLimit) return { status: 414, reason: `request line longer than ${lineLimit} bytes` };
  const raw = req.rawHeaders;
  const fieldLimit = limits.limitRequestFields || MAX_HEADERS;
  if (raw.length / 2 > fieldLimit) return { status: 431, reason: `more than ${fieldLimit} header fields` };
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Gunicorn counts the field line as sent, "Name: value" plus CRLF (one space assumed: Node keeps no OWS).
    if (limits.limitRequestFieldSize > 0 && name.length + raw[i + 1]!.length + 4 > limits.limitRequestFieldSize) {
      return { status: 431, reason: `header field ${name} larger than ${limits.limitRequestFieldSize} bytes` };
    }
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  // RFC 9112 §3.2: a request with more than one Host, or an HTTP/1.1 request with none, gets 400.
  if (hosts > 1) return { status: 400, reason: 'more than one Host header field' };
  if (hosts === 0 && req.httpVersionMinor === 1) return { status: 400, reason: 'no Host header field' };
  // `*` belongs to OPTIONS alone (RFC 9112 §3.2.4); absolute-form is taken, with its authority as Host.
  const target = req.url ?? '';
  if (target === '*' ? req.method !== 'OPTIONS' : !target.startsWith('/')) {
    if (target === '*' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return { status: 400, reason: `request target "${target.slice(0, 80)}" is not origin-form or absolute-form` };
    const refused = absoluteForm(req, target);
    if (refused) return refused;
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== 'chunked') return { status: 501, reason: `unsupported transfer coding "${te}"` };
    if (req.httpVersion === '1.0') return { status: 400, reason: 'chunked transfer coding on HTTP/1.0' };
  }
  let scheme: string | null = null;
  for (const [name, secureValue] of Object.entries(limits.secureSchemeHeaders)) {
    const value = req.headers[name.toLowerCase()];
    if (typeof value !== 'string') continue;
    const said = value.trim().toLowerCase() === secureValue.toLowerCase() ? 'https' : 'http';
    // The peer's trust is only asked about on a contradiction: it costs an address parse per request.
    if (scheme !== null && scheme !== said) return isTrustedPeer() ? { status: 400, reason: 'contradictory scheme headers' } : null;
    scheme = said;
  }
  return null;
}

const REASONS: Record<Rejection['status'], string> = {
  400: 'Bad Request',
  414: 'Request-URI Too Long',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

export function rejectionResponse(rejection: Rejection): { status: number; headers: Record<string, string | number>; body: string } {
  const body = `${REASONS[rejection.status]}: ${rejection.reason}\n`;
  return { status: rejection.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }, body };
}
