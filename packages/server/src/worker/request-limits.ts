import type { IncomingMessage } from 'node:http';

export interface RequestLimits {
  readonly limitRequestLine: number;
  readonly limitRequestFields: number;
  readonly limitRequestFieldSize: number;
  readonly secureSchemeHeaders: Readonly<Record<string, string>>;
}

export interface Rejection {
  readonly status: 400 | 414 | 431 | 501;
  readonly reason: string;
}

/** Gunicorn's hard ceilings, used when a limit is set to 0. */
const MAX_REQUEST_LINE = 8190;
const MAX_HEADERS = 32768;

/**
 * What Node's parser lets through but Gunicorn refuses, checked before the app sees the request:
 * over-long request lines (414), targets that are not origin-form (400), too many or too large header fields (431), transfer codings other
 * than exactly `chunked` (501), chunked bodies on HTTP/1.0 (400), and scheme headers from a trusted
 * proxy that contradict each other (400).
 */
export function checkRequest(req: IncomingMessage, limits: RequestLimits, isTrustedPeer: () => boolean): Rejection | null {
  const lineLimit = limits.limitRequestLine || MAX_REQUEST_LINE;
  const line = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 11; // "METHOD TARGET HTTP/x.y"
  if (line > lineLimit) return { status: 414, reason: `request line longer than ${lineLimit} bytes` };
  // An app server behind a proxy only ever gets origin-form targets (RFC 9112 §3.2.1); `*` belongs to
  // OPTIONS alone, and absolute-form is for proxies, where a mismatch with Host can mislead an app.
  const target = req.url ?? '';
  if (target === '*' ? req.method !== 'OPTIONS' : !target.startsWith('/')) return { status: 400, reason: `request target "${target.slice(0, 80)}" is not origin-form` };
  const raw = req.rawHeaders;
  const fieldLimit = limits.limitRequestFields || MAX_HEADERS;
  if (raw.length / 2 > fieldLimit) return { status: 431, reason: `more than ${fieldLimit} header fields` };
  if (limits.limitRequestFieldSize > 0) {
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length + raw[i + 1]!.length + 2 > limits.limitRequestFieldSize) {
        return { status: 431, reason: `header field ${raw[i]} larger than ${limits.limitRequestFieldSize} bytes` };
      }
    }
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
};

export function rejectionResponse(rejection: Rejection): { status: number; headers: Record<string, string | number>; body: string } {
  const body = `${REASONS[rejection.status]}: ${rejection.reason}\n`;
  return { status: rejection.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }, body };
}
