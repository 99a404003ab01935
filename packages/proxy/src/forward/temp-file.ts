import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/**
 * An anonymous temp file for a body that outgrew its memory buffer. It is unlinked the moment it
 * is opened, as nginx does with its proxy_temp files, so a crash never leaves one behind. Writes and
 * reads are synchronous, as nginx's (without `aio threads`): short, local, and bounded by the
 * caller's buffer size, not by the body.
 */
export class TempFile {
  readonly #fd: number;
  size = 0;
  #closed = false;

  constructor(dir = tmpdir()) {
    const path = join(dir, `nodicorn-proxy-${process.pid}-${++counter}.tmp`);
    this.#fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
  }

  get fd(): number {
    return this.#fd;
  }

  append(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) offset += writeSync(this.#fd, chunk, offset, chunk.length - offset, this.size + offset);
    this.size += chunk.length;
  }

  read(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(Math.min(length, this.size - position));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.#fd, buf, got, buf.length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
