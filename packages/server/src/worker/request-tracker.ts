import type { ServerResponse } from 'node:http';
import type { RequestInfo } from '../protocol.js';

/**
 * The requests a worker is serving right now. The watchdog reads `current` (set while a handler runs
 * synchronously) through the inspector when the loop is blocked, so a `while (true) {}` in a handler
 * is reported with the request that entered it.
 */
export class RequestTracker {
  readonly inflight = new Map<ServerResponse, RequestInfo>();
  current: RequestInfo | null = null;
  served = 0;

  oldest(): RequestInfo | null {
    for (const info of this.inflight.values()) return info; // Map keeps insertion order
    return null;
  }

  /** The request most likely to be blocking the loop: the one in a handler now, else the oldest. */
  suspect(): RequestInfo | null {
    return this.current ?? this.oldest();
  }
}

/** Where the watchdog's inspector evaluation finds the tracker. */
export const TRACKER_GLOBAL = '__nodicornRequestTracker';
