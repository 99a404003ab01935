import { close, fstat, open, read, type Stats } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';

/** How long a cached file answers without looking at the disk again: nginx open_file_cache_valid's default. */
const VALID_MS = 1000;
const MAX_FILE = 64 * 1024;
const MAX_ENTRIES = 2048;

export interface CachedFile {
  /** The headers `send` wrote for a full 200 of this file, replayed as they were. */
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

/**
 * Small static files kept in memory for a second after `send` served them, as nginx's
 * open_file_cache keeps descriptors: a hot 5 KB asset then costs no thread-pool round trips (each
 * stat/open/read/close is one, and on a busy machine they dominate). Only plain full GETs are
 * answered from here; Range, conditional and HEAD requests always go through `send`, which stays
 * the single authority on those rules. A change on disk is seen within VALID_MS.
 */
export class FileCache {
  readonly #entries = new Map<string, CachedFile>();

  /** A fresh entry for `key`, when the request is one the cache may answer. */
  lookup(key: string, now: number): CachedFile | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now - entry.at < VALID_MS) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  /**
   * Remembers a file `send` has just answered with a full 200. The bytes are read again through a
   * descriptor whose fstat must match the stat `send` used, so a file replaced in between is not
   * cached with the other version's headers.
   */
  fill(key: string, path: string, stat: Stats, headers: OutgoingHttpHeaders): void {
    if (stat.size > MAX_FILE || this.#entries.has(key)) return;
    open(path, 'r', (err, fd) => {
      if (err) return;
      const body = Buffer.allocUnsafe(stat.size);
      fstat(fd, (err2, now) => {
        if (err2 || now.size !== stat.size || now.mtimeMs !== stat.mtimeMs) return close(fd, () => {});
        read(fd, body, 0, body.length, 0, (err3, n) => {
          close(fd, () => {});
          if (err3 || n !== body.length) return;
          if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
          this.#entries.set(key, { headers, body, at: Date.now() });
        });
      });
    });
  }
}

/** Requests a cached full 200 may answer: no Range, no validators to evaluate. */
export function plainGet(headers: Record<string, string | string[] | undefined>, method: string | undefined): boolean {
  return method === 'GET' && headers.range === undefined && headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined && headers['if-match'] === undefined && headers['if-unmodified-since'] === undefined;
}
