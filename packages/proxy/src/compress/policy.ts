import type { IncomingMessage, ServerResponse } from 'node:http';
import { chooseEncoding, type Encoding } from './accept-encoding.js';
import { OFFERED, type Levels } from './encoders.js';

export interface CompressionSettings {
  /** Media types, `type/*` or `*` (nginx gzip_types); entries may hold several, space- or comma-separated. */
  readonly types: readonly string[];
  /** Responses with a Content-Length below this stay identity (nginx gzip_min_length). */
  readonly minLength: number;
  readonly levels: Levels;
  /** Codings to offer, in order of preference; defaults to what this Node can produce. */
  readonly offered?: readonly Encoding[];
}

/** The response fields the decision reads and edits: a flat [name, value, …] list or a ServerResponse. */
export interface Fields {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  delete(name: string): void;
}

/** nginx's gzip filter only compresses these statuses: 206, 204, 304, redirects and errors stay as they are. */
const STATUSES = new Set([200, 403, 404]);
/** Never compressed whatever gzip_types says: each event must reach the client as it is written. */
const EVENT_STREAM = 'text/event-stream';

/** What one compressed response needs to build its encoder. */
export interface Chosen {
  readonly encoding: Encoding;
  readonly text: boolean;
  readonly length: number | undefined;
}

/**
 * On-the-fly compression as nginx's gzip filter decides it. Eligibility depends on the response
 * alone (status, type, length, Content-Encoding, Cache-Control: no-transform), and every eligible
 * response says `Vary: Accept-Encoding` whether or not this client gets it compressed, so a cache
 * never hands a gzip body to a client that cannot read it. The coding then follows the request's
 * Accept-Encoding; HEAD, Range and HTTP/1.0 requests (nginx gzip_http_version 1.1: no chunked
 * framing) always get identity.
 */
export class Compression {
  readonly offered: readonly Encoding[];
  readonly levels: Levels;
  readonly #minLength: number;
  readonly #exact = new Set<string>();
  readonly #majors = new Set<string>();
  readonly #any: boolean;

  constructor(settings: CompressionSettings) {
    this.offered = settings.offered ?? OFFERED;
    this.levels = settings.levels;
    this.#minLength = settings.minLength;
    const types = settings.types.flatMap((t) => t.toLowerCase().split(/[\s,]+/)).filter(Boolean);
    this.#any = types.includes('*') || types.includes('*/*');
    for (const t of types) {
      if (t.endsWith('/*')) this.#majors.add(t.slice(0, -2));
      else this.#exact.add(t);
    }
  }

  /** Whether a Content-Type is one of the types (its parameters ignored). */
  typeMatches(contentType: string | undefined): boolean {
    if (!contentType) return false;
    const semi = contentType.indexOf(';');
    const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
    if (type === EVENT_STREAM || !type.includes('/')) return false;
    return this.#any || this.#exact.has(type) || this.#majors.has(type.slice(0, type.indexOf('/')));
  }

  /** The coding this request may receive, by Accept-Encoding; null for identity. */
  accepted(req: IncomingMessage): Encoding | null {
    if (req.method === 'HEAD' || req.headers.range !== undefined || req.httpVersion === '1.0') return null;
    return chooseEncoding(req.headers['accept-encoding'], this.offered);
  }

  /**
   * Decides for one response and edits its fields: Vary when eligible; when compressed,
   * Content-Encoding, no Content-Length or Accept-Ranges (the length is no longer known and ranges
   * of the encoded body are not offered) and a strong ETag made weak, as nginx does since 1.7.3:
   * the encoded bytes differ, the representation does not.
   */
  decide(req: IncomingMessage, status: number, fields: Fields): Chosen | null {
    if (!STATUSES.has(status)) return null;
    const encoded = fields.get('content-encoding');
    if (encoded !== undefined && encoded.trim().toLowerCase() !== 'identity') return null;
    if (fields.get('content-range') !== undefined) return null;
    if (/(^|,)\s*no-transform\s*(,|$)/i.test(fields.get('cache-control') ?? '')) return null;
    const contentType = fields.get('content-type');
    if (!this.typeMatches(contentType)) return null;
    const declared = fields.get('content-length');
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && (!Number.isFinite(length) || length < Math.max(1, this.#minLength))) return null;
    addVary(fields);
    const encoding = this.accepted(req);
    if (!encoding) return null;
    fields.set('content-encoding', encoding);
    fields.delete('content-length');
    fields.delete('accept-ranges');
    const etag = fields.get('etag');
    if (etag?.startsWith('"')) fields.set('etag', `W/${etag}`);
    return { encoding, text: /^\s*text\/|json|javascript|xml|svg/i.test(contentType!), length };
  }
}

/** Adds Accept-Encoding to Vary unless it is there already or Vary is `*`. */
export function addVary(fields: Fields): void {
  const vary = fields.get('vary');
  if (vary === undefined || vary.trim() === '') return fields.set('vary', 'Accept-Encoding');
  if (vary.split(',').some((v) => ['*', 'accept-encoding'].includes(v.trim().toLowerCase()))) return;
  fields.set('vary', `${vary}, Accept-Encoding`);
}

/** Fields over the flat header list undici hands the forwarder; repeated fields read comma-joined. */
export function listFields(list: string[]): Fields {
  const indexes = (name: string) => {
    const out: number[] = [];
    for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() === name) out.push(i);
    return out;
  };
  const remove = (name: string) => {
    for (const i of indexes(name).reverse()) list.splice(i, 2);
  };
  return {
    get: (name) => {
      const at = indexes(name);
      return at.length ? at.map((i) => list[i + 1]!).join(', ') : undefined;
    },
    set: (name, value) => {
      remove(name);
      list.push(name, value);
    },
    delete: remove,
  };
}

/** Fields over a response whose headers are set but not yet sent (the static path, after `send`). */
export function responseFields(res: ServerResponse): Fields {
  return {
    get: (name) => {
      const v = res.getHeader(name);
      return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
    },
    set: (name, value) => void res.setHeader(name, value),
    delete: (name) => res.removeHeader(name),
  };
}
