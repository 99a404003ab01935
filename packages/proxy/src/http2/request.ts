import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Refusal } from '../flow/request-checks.js';

/**
 * HTTP/2 requests reach the app through `node:http2`'s compatibility API: an `Http2ServerRequest`
 * and `Http2ServerResponse` shaped like http's, with the request line carried as pseudo-header
 * fields (`:method`, `:path`, `:authority`, `:scheme`) at the front of `rawHeaders`. These are the
 * few places where that difference matters; everything else takes either kind.
 */
export function isHttp2(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  // By class, never by httpVersion: an HTTP/1 request line may claim `HTTP/2.0` (answered 505).
  return req instanceof Http2ServerRequest;
}

export function isHttp2Response(res: ServerResponse | Http2ServerResponse): res is Http2ServerResponse {
  return res instanceof Http2ServerResponse;
}

/**
 * The request's Host: the Host field, else `:authority` (RFC 9113 §8.3.1: a client converting
 * from HTTP/1.1 sends `:authority` instead of Host, and an intermediary forwarding to HTTP/1.1
 * writes it back as Host).
 */
export function requestHost(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

/** Header fields the client sent, not counting HTTP/2's pseudo-header fields (for --max-headers). */
export function fieldCount(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  if (!isHttp2(req)) return raw.length / 2;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58) n++;
  return n;
}

/**
 * Whether an HTTP/2 request carries a body: a HEADERS frame without END_STREAM announces DATA
 * frames, with or without Content-Length (RFC 9113 §8.1), so the HTTP/1.1 rule of
 * Content-Length/Transfer-Encoding does not apply.
 */
export function http2HasBody(req: Http2ServerRequest): boolean {
  return !req.stream.endAfterHeaders;
}

const BAD: Refusal = { status: 400 };

/**
 * The HTTP/2 share of the checks `refuseRequest` makes on HTTP/1.x. nghttp2 has already refused
 * connection-specific fields, Transfer-Encoding and malformed pseudo-headers with a stream error;
 * what is left is the authority the proxy will write as Host, checked by the same rule.
 */
export function refuseHttp2Request(req: Http2ServerRequest, hostRule: RegExp): Refusal | null {
  const authority = req.headers[':authority'];
  const host = req.headers.host;
  if (authority === undefined && host === undefined) return BAD;
  for (const h of [authority, host]) if (h !== undefined && !hostRule.test(h)) return BAD;
  return null;
}

/**
 * Response fields `node:http2` sends at most once (its `kSingleValueHeaders`, for the names a
 * response carries): it throws on a second one, where HTTP/1.1 passes both along. The first is
 * kept, as a browser reading a repeated Content-Type would.
 */
const SINGLE_VALUE = new Set(['access-control-allow-credentials', 'access-control-max-age', 'age', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expires', 'last-modified', 'location', 'retry-after', 'tk', 'x-content-type-options']);

/** Drops repeats of single-value fields from a flat [name, value, …] response list, in place. */
export function dropRepeatedSingleValues(headers: string[]): string[] {
  let seen: Set<string> | null = null;
  for (let i = 0; i < headers.length; ) {
    const lower = headers[i]!.toLowerCase();
    if (SINGLE_VALUE.has(lower)) {
      seen ??= new Set();
      if (seen.has(lower)) {
        headers.splice(i, 2);
        continue;
      }
      seen.add(lower);
    }
    i += 2;
  }
  return headers;
}
