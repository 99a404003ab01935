/**
 * nginx's limit_conn: requests in progress per key (each HTTP/2 stream is one, as nginx counts
 * them). The interface is what a master-shared counter would implement for `--workers N`.
 */
export interface ConnectionLimiter {
  /** Counts one more in progress for `key`; false (and nothing counted) when `max` are already. */
  acquire(key: string): boolean;
  release(key: string): void;
}

/** This process's counts; a key is forgotten when its last request ends, so memory follows concurrency. */
export class LocalConnectionLimiter implements ConnectionLimiter {
  readonly #counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.#counts.size;
  }

  acquire(key: string): boolean {
    const n = this.#counts.get(key) ?? 0;
    if (n >= this.max) return false;
    this.#counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.#counts.get(key) ?? 0;
    if (n <= 1) this.#counts.delete(key);
    else this.#counts.set(key, n - 1);
  }
}
