import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import type { Encoding } from './accept-encoding.js';

/** zstd arrived in node:zlib with Node 22.15/23.8; the floor (20.19) lacks it, so it is looked up, not imported. */
interface ZstdZlib {
  readonly createZstdCompress?: (options?: { params?: Record<number, number> }) => Encoder;
  readonly zstdCompressSync?: (body: Buffer, options?: { params?: Record<number, number> }) => Buffer;
  readonly constants: { readonly ZSTD_c_compressionLevel?: number };
}
const zstdZlib = zlib as unknown as ZstdZlib;

/** Where a response body is written to be encoded: a node:zlib compressor, whose flush() sends what it holds (Z_SYNC_FLUSH, BROTLI_OPERATION_FLUSH), or a WholeBody. */
export type Encoder = Writable & { flush(callback?: () => void): void };

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

function brotliParams(levels: Levels, text: boolean, size: number | undefined): Record<number, number> {
  const c = zlib.constants;
  return {
    [c.BROTLI_PARAM_QUALITY]: levels.brotli,
    [c.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
    [c.BROTLI_PARAM_MODE]: text ? c.BROTLI_MODE_TEXT : c.BROTLI_MODE_GENERIC,
    ...(size !== undefined ? { [c.BROTLI_PARAM_SIZE_HINT]: size } : {}),
  };
}

// zstd is only reached when HAS_ZSTD (OFFERED lists it only then).
// eslint-disable-next-line n/no-unsupported-features/node-builtins
const zstdParams = (levels: Levels) => ({ params: { [zstdZlib.constants.ZSTD_c_compressionLevel!]: levels.zstd } });

/** A streaming encoder for one response body. `text` tunes brotli for UTF-8; `size` is its Content-Length when known. */
export function createEncoder(encoding: Encoding, levels: Levels, text: boolean, size: number | undefined): Encoder {
  switch (encoding) {
    case 'gzip':
      return zlib.createGzip({ level: levels.gzip });
    case 'br':
      return zlib.createBrotliCompress({ params: brotliParams(levels, text, size) });
    case 'zstd':
      // eslint-disable-next-line n/no-unsupported-features/node-builtins
      return zstdZlib.createZstdCompress!(zstdParams(levels));
  }
}

/** One whole body encoded in one call, on the event loop (as nginx's worker runs zlib). */
function compressSync(encoding: Encoding, levels: Levels, text: boolean, body: Buffer): Buffer {
  switch (encoding) {
    case 'gzip':
      return zlib.gzipSync(body, { level: levels.gzip });
    case 'br':
      return zlib.brotliCompressSync(body, { params: brotliParams(levels, text, body.length) });
    case 'zstd':
      // eslint-disable-next-line n/no-unsupported-features/node-builtins
      return zstdZlib.zstdCompressSync!(body, zstdParams(levels));
  }
}

/**
 * Bodies of a known length up to this size, in buffered responses, are encoded whole in one
 * synchronous call instead of through a zlib stream. Such a body arrives in one or two upstream
 * reads, and a streaming encoder holds its output until a 16 KB chunk fills, so the client gets
 * its bytes hardly any later; meanwhile a stream's thread-pool round trips and bookkeeping cost
 * more CPU than compressing 64 KB does (measured on this machine for 50 KB of JSON at level 1:
 * ~100-190 µs for gzipSync against ~230-270 µs through a stream). Holding 64 KB is within what
 * the sink may hold anyway; the event loop is held as long as nginx's worker would be.
 */
export const WHOLE_MAX = 64 * 1024;

/** Collects a body of known, small length and writes it encoded, whole, when it ends. */
class WholeBody extends Writable {
  readonly #chunks: Buffer[] = [];

  constructor(
    private readonly compress: (body: Buffer) => Buffer,
    private readonly deliver: (encoded: Buffer) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#chunks.push(chunk);
    callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    let encoded: Buffer;
    try {
      encoded = this.compress(this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks));
    } catch (err) {
      return callback(err as Error);
    }
    this.deliver(encoded);
    callback();
  }

  /** Never asked: whole bodies are only used for buffered responses, which are not flushed per chunk. */
  flush(callback?: () => void): void {
    callback?.();
  }
}

/**
 * Puts an encoder in front of `res` and returns it: what is written to it reaches the client
 * encoded, with the client's backpressure passed back (a full socket stops the pipe, the encoder's
 * buffer fills, its write() returns false). Either side failing or closing destroys the other.
 * `sent` counts the encoded bytes, for the access log's $body_bytes_sent.
 */
export function encodeInto(res: Writable, encoding: Encoding, levels: Levels, text: boolean, size: number | undefined, streaming: boolean, sent: (bytes: number) => void): Encoder {
  if (!streaming && size !== undefined && size <= WHOLE_MAX) {
    const whole = new WholeBody(
      (body) => compressSync(encoding, levels, text, body),
      (encoded) => {
        sent(encoded.length);
        res.end(encoded);
      },
    );
    whole.once('error', (err) => res.destroy(err));
    res.once('close', () => whole.destroy());
    return whole;
  }
  const encoder = createEncoder(encoding, levels, text, size);
  encoder.on('data', (chunk: Buffer) => sent(chunk.length));
  // pipe() plus the two teardown links pipeline() would add, without its per-stream bookkeeping
  // (this runs once per compressed response).
  encoder.pipe(res);
  encoder.once('error', (err) => res.destroy(err));
  res.once('close', () => encoder.destroy());
  return encoder;
}
