import { createReadStream, realpath, realpathSync, stat, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import { pipeline } from 'node:stream';
import mime from 'mime-types';
import send from 'send';
import { chooseEncoding, type Encoding } from '../compress/accept-encoding.js';
import { encodeInto } from '../compress/encoders.js';
import { responseFields, type Compression } from '../compress/policy.js';
import { sendError } from '../error-page.js';
import type { Exchange } from '../logging/access-log.js';
import { FileCache, plainGet } from './file-cache.js';
import { isHashedName, safeSegments } from './safe-path.js';

/** Types worth precompressing; only these are looked up as .br/.gz, so images cost no extra stat. */
const COMPRESSIBLE = new Set(['.html', '.htm', '.css', '.js', '.mjs', '.json', '.map', '.svg', '.txt', '.xml', '.wasm', '.md', '.csv', '.ico']);
const VARIANT_TTL_MS = 1000;
const VARIANT_CACHE_MAX = 10_000;
/** Headers that belong to one response, never replayed from the cache. */
const PER_RESPONSE = ['date', 'connection', 'keep-alive', 'strict-transport-security'];

interface Variants {
  readonly br: boolean;
  readonly gz: boolean;
  readonly at: number;
}

/**
 * One `--static /prefix=DIR` mount, served with `send` (Range, ETag/Last-Modified, 304/412) after
 * the proxy's own path decision: safe segments, a real path inside the real root (no symlink
 * escapes), `index.html` for directories, and a precompressed `.br`/`.gz` sibling when the client
 * accepts it (with `Vary: Accept-Encoding`). With --gzip on, a file with no sibling the client can
 * take is compressed as it is read (nginx gzip_static first, then gzip).
 */
export class StaticMount {
  readonly #rootReal: string;
  readonly #variants = new Map<string, Variants>();
  readonly #cache = new FileCache();

  constructor(
    readonly prefix: string,
    readonly root: string,
    private readonly compression: Compression | null = null,
  ) {
    this.#rootReal = realpathSync(root);
  }

  serve(req: IncomingMessage, res: ServerResponse, pathname: string, query: string, extraHeaders: readonly string[], ex?: Exchange): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, { headers: { allow: 'GET, HEAD' } });
      return;
    }
    const rest = pathname.slice(this.prefix === '/' ? 0 : this.prefix.length);
    const segments = safeSegments(rest);
    if (typeof segments === 'number') return sendError(res, segments);
    if (rest === '') return redirect(res, `${pathname}/${query}`);
    if (rest.endsWith('/')) segments.push('index.html');
    const file = join(this.#rootReal, ...segments);
    this.#withVariants(req, res, file, segments, (encoding) => {
      for (let i = 0; i < extraHeaders.length; i += 2) res.setHeader(extraHeaders[i]!, extraHeaders[i + 1]!);
      const key = encoding ? `${file}.${encoding}` : file;
      // On the fly: the cache holds identity bytes, so neither answered from it nor filled.
      const fly = encoding === null && this.#onTheFly(req, segments);
      const plain = !fly && plainGet(req.headers, req.method);
      const hit = plain ? this.#cache.lookup(key, Date.now()) : undefined;
      if (hit) {
        res.writeHead(200, hit.headers);
        res.end(hit.body);
        return;
      }
      // The real path of the file actually sent: a `.br`/`.gz` sibling may be a symlink out of the
      // root even when the plain file is not, so it is held to the same rule.
      realpath.native(key, (err, real) => {
        if (err || !this.#inside(real)) return sendError(res, 404);
        this.#send(req, res, pathname, query, segments, encoding, plain ? key : null, fly ? ex : undefined);
      });
    });
  }

  #inside(real: string): boolean {
    return real === this.#rootReal || real.startsWith(this.#rootReal + sep);
  }

  /** Whether this file's type is compressed on the fly and this request accepts a coding. */
  #onTheFly(req: IncomingMessage, segments: string[]): boolean {
    const c = this.compression;
    return c !== null && c.typeMatches(mime.contentType(extname(segments.at(-1) ?? '')) || undefined) && c.accepted(req) !== null;
  }

  #send(req: IncomingMessage, res: ServerResponse, pathname: string, query: string, segments: string[], encoding: 'br' | 'gz' | null, cacheKey: string | null, fly?: Exchange): void {
    const name = segments.at(-1) ?? '';
    let path = '/' + segments.map(encodeURIComponent).join('/');
    if (encoding) {
      res.setHeader('content-encoding', encoding === 'gz' ? 'gzip' : 'br');
      res.setHeader('content-type', mime.contentType(extname(name)) || 'application/octet-stream');
      path += `.${encoding}`;
    }
    const hashed = isHashedName(name);
    const stream = send(req, path, { root: this.#rootReal, index: false, dotfiles: 'allow', etag: true, lastModified: true, maxAge: hashed ? '1y' : 0, immutable: hashed })
      .on('error', (e: { status?: number }) => sendError(res, e.status === 404 || e.status === undefined ? 404 : e.status))
      // send would build the Location from the mount-relative path; use the client's.
      .on('directory', () => redirect(res, `${pathname}/${query}`));
    if (fly) this.#encodeBody(stream, req, res, fly);
    if (cacheKey) {
      stream.on('file', (filePath: string, stat: Stats) => {
        res.once('finish', () => {
          if (res.statusCode !== 200) return;
          const headers = res.getHeaders();
          for (const h of PER_RESPONSE) delete headers[h];
          // An HTTP/2 response lists `:status` among its headers; replayed, writeHead would throw.
          for (const h of Object.keys(headers)) if (h.charCodeAt(0) === 58) delete headers[h];
          this.#cache.fill(cacheKey, filePath, stat, headers);
        });
      });
    }
    stream.pipe(res);
  }

  /**
   * `send` decides 304/412/206 and sets every header, then calls its `stream(path, options)` for
   * the body; replacing that one method puts the encoder between the file and the client once the
   * final status and Content-Length are known, so the policy decides on exactly what nginx's gzip
   * filter would see. Anything not compressed after all goes through send's own stream.
   */
  #encodeBody(stream: send.SendStream, req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    const compression = this.compression!;
    const plain = stream.stream.bind(stream);
    stream.stream = (path: string, options?: object) => {
      const chosen = compression.decide(req, res.statusCode, responseFields(res));
      if (!chosen) return plain(path, options);
      const encoder = encodeInto(res, chosen.encoding, compression.levels, chosen.text, chosen.length, false, (n) => (ex.bytes += n));
      pipeline(createReadStream(path, options), encoder, () => {});
    };
  }

  /** Picks the sibling the client prefers (br over gzip at equal qvalues), when one exists; cached briefly, as nginx's open_file_cache would. */
  #withVariants(req: IncomingMessage, res: ServerResponse, file: string, segments: string[], then: (encoding: 'br' | 'gz' | null) => void): void {
    const name = segments.at(-1) ?? '';
    // Eligible on the fly: the answer varies on Accept-Encoding even when no sibling exists (a 304 too).
    if (this.compression?.typeMatches(mime.contentType(extname(name)) || undefined)) res.setHeader('vary', 'Accept-Encoding');
    if (!COMPRESSIBLE.has(extname(name).toLowerCase())) return then(null);
    const choose = (v: Variants) => {
      if (v.br || v.gz) res.setHeader('vary', 'Accept-Encoding');
      const offered: Encoding[] = [...(v.br ? (['br'] as const) : []), ...(v.gz ? (['gzip'] as const) : [])];
      const chosen = offered.length ? chooseEncoding(req.headers['accept-encoding'], offered) : null;
      then(chosen === 'br' ? 'br' : chosen === 'gzip' ? 'gz' : null);
    };
    const now = Date.now();
    const cached = this.#variants.get(file);
    if (cached && now - cached.at < VARIANT_TTL_MS) return choose(cached);
    let pending = 2;
    const found = { br: false, gz: false };
    const done = () => {
      if (--pending) return;
      const v = { ...found, at: now };
      if (this.#variants.size >= VARIANT_CACHE_MAX) this.#variants.clear();
      this.#variants.set(file, v);
      choose(v);
    };
    // A sibling counts only when its real path is inside the root (a `.br` symlink to /etc/passwd
    // does not exist as far as we are concerned), so such a client gets the plain file.
    const probe = (suffix: 'br' | 'gz') =>
      realpath.native(`${file}.${suffix}`, (err, real) => {
        if (err || !this.#inside(real)) return done();
        stat(real, (err2, s) => ((found[suffix] = !err2 && s.isFile()), done()));
      });
    probe('br');
    probe('gz');
  }
}

function redirect(res: ServerResponse, location: string): void {
  // Collapse leading slashes so //evil.example/ can never become a protocol-relative Location.
  location = location.replace(/^\/+/, '/');
  res.writeHead(301, { location, 'content-length': 0 });
  res.end();
}
