import type { Transform, Writable } from 'node:stream';
import zlib from 'node:zlib';
import type { Encoding } from './accept-encoding.js';

/** zstd arrived in node:zlib with Node 22.15/23.8; the floor (20.19) lacks it, so it is looked up, not imported. */
interface ZstdZlib {
  readonly createZstdCompress?: (options?: { params?: Record<number, number> }) => Encoder;
  readonly constants: { readonly ZSTD_c_compressionLevel?: number };
}
const zstdZlib = zlib as unknown as ZstdZlib;

/** A node:zlib compressor: a Transform that can also flush what it holds (Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH). */
export type Encoder = Transform & { flush(callback?: () => void): void };

// Feature-detected, so the floor's lint rule does not apply to the zstd lookups in this file.
// eslint-disable-next-line n/no-unsupported-features/node-builtins
export const HAS_ZSTD = typeof zstdZlib.createZstdCompress === 'function';

/** What the proxy offers, in its order of preference at equal qvalues: br, then zstd, then gzip. */
export const OFFERED: readonly Encoding[] = HAS_ZSTD ? ['br', 'zstd', 'gzip'] : ['br', 'gzip'];

export interface Levels {
  readonly gzip: number;
  readonly brotli: number;
  readonly zstd: number;
}

/**
 * Brotli's window as ngx_brotli's default `brotli_window 512k` (lgwin 19): Node's default (22, a
 * 4 MB window) would hold megabytes per response in flight for little gain on web payloads.
 */
const BROTLI_LGWIN = 19;

/** A streaming encoder for one response body. `text` tunes brotli for UTF-8; `size` is its Content-Length when known. */
export function createEncoder(encoding: Encoding, levels: Levels, text: boolean, size: number | undefined): Encoder {
  const c = zlib.constants;
  switch (encoding) {
    case 'gzip':
      return zlib.createGzip({ level: levels.gzip });
    case 'br':
      return zlib.createBrotliCompress({
        params: {
          [c.BROTLI_PARAM_QUALITY]: levels.brotli,
          [c.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
          [c.BROTLI_PARAM_MODE]: text ? c.BROTLI_MODE_TEXT : c.BROTLI_MODE_GENERIC,
          ...(size !== undefined ? { [c.BROTLI_PARAM_SIZE_HINT]: size } : {}),
        },
      });
    case 'zstd':
      // Only reached when HAS_ZSTD (OFFERED lists zstd only then).
      // eslint-disable-next-line n/no-unsupported-features/node-builtins
      return zstdZlib.createZstdCompress!({ params: { [zstdZlib.constants.ZSTD_c_compressionLevel!]: levels.zstd } });
  }
}

/**
 * Puts an encoder in front of `res` and returns it: what is written to it reaches the client
 * encoded, with the client's backpressure passed back (a full socket stops the pipe, the encoder's
 * buffer fills, its write() returns false). Either side failing or closing destroys the other.
 * `sent` counts the encoded bytes, for the access log's $body_bytes_sent.
 */
export function encodeInto(res: Writable, encoding: Encoding, levels: Levels, text: boolean, size: number | undefined, sent: (bytes: number) => void): Encoder {
  const encoder = createEncoder(encoding, levels, text, size);
  encoder.on('data', (chunk: Buffer) => sent(chunk.length));
  // pipe() plus the two teardown links pipeline() would add, without its per-stream bookkeeping
  // (this runs once per compressed response).
  encoder.pipe(res);
  encoder.once('error', (err) => res.destroy(err));
  res.once('close', () => encoder.destroy());
  return encoder;
}
