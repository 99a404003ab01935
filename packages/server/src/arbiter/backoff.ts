/**
 * How long to wait before replacing a worker that crashed. The first crash in a window is replaced at
 * once; each further crash within the window doubles the wait, up to a cap, so an app that crashes on
 * every request cannot turn the master into a fork bomb.
 */
export function respawnDelayMs(crashTimes: readonly number[], now: number, windowMs = 60_000, baseMs = 100, capMs = 10_000): number {
  const recent = crashTimes.filter((t) => now - t < windowMs).length;
  if (recent <= 1) return 0;
  return Math.min(capMs, baseMs * 2 ** (recent - 2));
}

/** The per-worker request limit: max_requests plus a random 0..jitter, as Gunicorn computes it. */
export function maxRequestsFor(maxRequests: number, jitter: number, random: () => number = Math.random): number {
  if (maxRequests <= 0) return 0;
  return maxRequests + (jitter > 0 ? Math.floor(random() * (jitter + 1)) : 0);
}
