import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;
let privateDir: string | null = null;

/**
 * This process's own directory for buffer files, made once with mkdtemp (mode 0700, an
 * unpredictable name) and removed on exit. Names inside it are then private: another local user
 * can neither pre-create one (temp-file squatting, issue 11 item 9) nor list or open them, as
 * nginx's proxy_temp_path is a directory only its workers can enter.
 */
function bufferDir(): string {
  if (privateDir === null) {
    const dir = mkdtempSync(join(tmpdir(), 'nodicorn-proxy-'));
    privateDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return privateDir;
}

/** The private buffer directory, when one has been made (tests look for it). */
export function tempFileDir(): string | null {
  return privateDir;
}

/**
 * An anonymous temp file for a body that outgrew its memory buffer. It is unlinked the moment it
 * is opened, as nginx does with its proxy_temp files, so a crash never leaves one behind. Writes and
 * reads are synchronous, as nginx's (without `aio threads`): short, local, and bounded by the
 * caller's buffer size, not by the body. Opened with exclusive creation (`wx+`, 0600), so even
 * inside the private directory an existing name is never reused.
 */
export class TempFile {
  readonly #fd: number;
  size = 0;
  #closed = false;

  constructor(dir = bufferDir()) {
    const path = join(dir, `${++counter}.tmp`);
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
