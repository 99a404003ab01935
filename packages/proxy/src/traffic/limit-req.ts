/**
 * nginx's limit_req: a leaky bucket per key, in nginx's own integer units so the same config
 * admits the same requests. `rate` is in milli-requests per second (5r/s is 5000, 30r/m is 500),
 * `excess` in milli-requests: each request adds 1000 and the bucket drains `rate` per second.
 */
export interface LimitReqRule {
  /** milli-requests per second, as nginx stores it (`30r/m` → 30 * 1000 / 60 = 500). */
  readonly rate: number;
  /** Requests the bucket may hold beyond the rate (burst=N). */
  readonly burst: number;
  /** Of the burst, how many pass at once before the rest are delayed (delay=N); Infinity is nodelay. */
  readonly delay: number;
}

/** A request's fate: rejected, or let through after `delayMs` (0 at once). */
export type LimitReqVerdict = { readonly ok: false; readonly excess: number } | { readonly ok: true; readonly delayMs: number; readonly excess: number };

/**
 * Where bucket state lives. This process keeps its own (LocalRequestLimiter); state shared between
 * the proxy's workers would implement the same call against the master.
 */
export interface RequestLimiter {
  take(key: string, nowMs: number): LimitReqVerdict;
}

interface Bucket {
  excess: number;
  last: number;
}

/** Keys tracked per route before the least recently seen is forgotten (nginx's zone filling up). */
export const LIMIT_KEYS = 100_000;

/**
 * One route's buckets in this process. Bounded as nginx's zone is: past `maxKeys` the least
 * recently used key is dropped (nginx expires the LRU node when its zone is full), so a flood of
 * distinct keys costs memory up to the bound and forgets the quietest clients first.
 */
export class LocalRequestLimiter implements RequestLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly rule: LimitReqRule,
    private readonly maxKeys = LIMIT_KEYS,
  ) {}

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, nowMs: number): LimitReqVerdict {
    const { rate, burst, delay } = this.rule;
    const bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
      this.#buckets.set(key, { excess: 0, last: nowMs });
      return { ok: true, delayMs: 0, excess: 0 };
    }
    // ngx_http_limit_req_lookup, integer for integer.
    let ms = nowMs - bucket.last;
    if (ms < 0) ms = 0;
    let excess = bucket.excess - Math.trunc((rate * ms) / 1000) + 1000;
    if (excess < 0) excess = 0;
    // Most recently used last: the Map's order is the LRU order.
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (excess > burst * 1000) return { ok: false, excess };
    bucket.excess = excess;
    if (ms) bucket.last = nowMs;
    // ngx_http_limit_req_account: the part of the excess above delay= waits its turn at the rate.
    const delayMs = excess <= delay * 1000 ? 0 : Math.trunc(((excess - delay * 1000) * 1000) / rate);
    return { ok: true, delayMs, excess };
  }
}
