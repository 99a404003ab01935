/** Upper bounds (seconds) of the request-duration histogram, as prom-client's defaults. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What one worker has counted since it started; sent to the master with each heartbeat. */
export interface WorkerCounters {
  /** Responses by status code. */
  statuses: Record<string, number>;
  /** Per bucket of DURATION_BUCKETS, then +Inf: how many requests took at most that long (not cumulative). */
  buckets: number[];
  durationSum: number;
  /** The event loop's mean delay over the last heartbeat period, in milliseconds. */
  loopLagMs: number;
}

export function emptyCounters(): WorkerCounters {
  return { statuses: {}, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), durationSum: 0, loopLagMs: 0 };
}

export function countRequest(counters: WorkerCounters, status: number, seconds: number): void {
  counters.statuses[status] = (counters.statuses[status] ?? 0) + 1;
  let i = 0;
  while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
  counters.buckets[i]!++;
  counters.durationSum += seconds;
}

/** Adds b into a (statuses, buckets and sums; the lag is a gauge and is not summed). */
export function addCounters(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  for (const [status, n] of Object.entries(b.statuses)) a.statuses[status] = (a.statuses[status] ?? 0) + n;
  b.buckets.forEach((n, i) => (a.buckets[i] = (a.buckets[i] ?? 0) + n));
  a.durationSum += b.durationSum;
  return a;
}
