import { realpath, realpathSync, stat, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';
import mime from 'mime-types';
import send from 'send';
import { sendError } from '../error-page.js';
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
 * accepts it (with `Vary: Accept-Encoding`).
 */
export class StaticMount {
  readonly #rootReal: string;
  readonly #variants = new Map<string, Variants>();
  readonly #cache = new FileCache();

  constructor(
    readonly prefix: string,
    readonly root: string,
  ) {
    this.#rootReal = realpathSync(root);
  }

  serve(req: IncomingMessage, res: ServerResponse, pathname: string, query: string, extraHeaders: readonly string[]): void {
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
      const plain = plainGet(req.headers, req.method);
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
        this.#send(req, res, pathname, query, segments, encoding, plain ? key : null);
      });
    });
  }

  #inside(real: string): boolean {
    return real === this.#rootReal || real.startsWith(this.#rootReal + sep);
  }

  #send(req: IncomingMessage, res: ServerResponse, pathname: string, query: string, segments: string[], encoding: 'br' | 'gz' | null, cacheKey: string | null): void {
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
    if (cacheKey) {
      stream.on('file', (filePath: string, stat: Stats) => {
        res.once('finish', () => {
          if (res.statusCode !== 200) return;
          const headers = res.getHeaders();
          for (const h of PER_RESPONSE) delete headers[h];
          this.#cache.fill(cacheKey, filePath, stat, headers);
        });
      });
    }
    stream.pipe(res);
  }

  /** Picks br, then gzip, when the client accepts it and a sibling exists; cached briefly, as nginx's open_file_cache would. */
  #withVariants(req: IncomingMessage, res: ServerResponse, file: string, segments: string[], then: (encoding: 'br' | 'gz' | null) => void): void {
    const name = segments.at(-1) ?? '';
    if (!COMPRESSIBLE.has(extname(name).toLowerCase())) return then(null);
    const accept = req.headers['accept-encoding'] ?? '';
    const choose = (v: Variants) => {
      if (v.br || v.gz) res.setHeader('vary', 'Accept-Encoding');
      if (v.br && /\bbr\b/.test(accept)) return then('br');
      if (v.gz && /\bgzip\b/.test(accept)) return then('gz');
      then(null);
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
