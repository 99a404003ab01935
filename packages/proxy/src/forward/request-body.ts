import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { TempFile } from './temp-file.js';

/** A fully read request body, re-readable for a retry to the next server. */
export interface BufferedBody {
  readonly length: number;
  /** A fresh stream over the body, or the body itself when it is small enough to stay in memory. */
  open(): Buffer | Readable;
  dispose(): void;
}

export class BodyTooLarge extends Error {
  constructor() {
    super('request body larger than max_body');
  }
}

/** Whether a request carries a body at all (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/**
 * Reads a request body as nginx's proxy_request_buffering does: into memory up to `memory` bytes,
 * then into a temp file, failing with BodyTooLarge past `max` (0 = unlimited) without reading on.
 */
export function bufferBody(req: IncomingMessage, max: number, memory: number): Promise<BufferedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let file: TempFile | null = null;
    const fail = (err: Error) => {
      cleanup();
      file?.close();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (max && length > max) return fail(new BodyTooLarge());
      if (!file && length <= memory) {
        chunks.push(chunk);
        return;
      }
      try {
        if (!file) {
          file = new TempFile();
          for (const c of chunks.splice(0)) file.append(c);
        }
        file.append(chunk);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onEnd = () => {
      cleanup();
      if (!file) {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        resolve({ length, open: () => body, dispose() {} });
        return;
      }
      const f: TempFile = file;
      resolve({
        length,
        open: () => Readable.from(readChunks(f, length)),
        dispose: () => f.close(),
      });
    };
    const onClose = () => {
      if (!req.complete) fail(new Error('client closed the connection while sending the body'));
    };
    const onError = (err: Error) => fail(err);
    const cleanup = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function* readChunks(file: TempFile, length: number): Generator<Buffer> {
  for (let pos = 0; pos < length; ) {
    const chunk = file.read(pos, 64 * 1024);
    if (chunk.length === 0) return;
    pos += chunk.length;
    yield chunk;
  }
}
