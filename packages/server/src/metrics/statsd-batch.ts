/** How often the master sends the server's counts to --statsd-host. */
export const STATSD_FLUSH_MS = 1_000;

/** The error-log levels Gunicorn's statsd logger counts, as gunicorn.log.LEVEL. */
export const COUNTED_LOG_LEVELS = ['critical', 'error', 'warning', 'exception'] as const;
export type CountedLogLevel = (typeof COUNTED_LOG_LEVELS)[number];

/**
 * Durations one batch carries at most. Gunicorn sends one timer datagram per request; through the
 * master that would be one IPC number per request, so past this a batch keeps a uniform sample and
 * the lines say its rate (`|@0.25`), which statsd servers scale back up.
 */
export const MAX_DURATIONS_PER_BATCH = 250;

/** What one worker counted for statsd since its last batch (sent with its `load` message). */
export interface StatsdBatch {
  /** Responses by status code. */
  readonly statuses: Record<string, number>;
  /** Request durations in milliseconds: all of them, or a uniform sample of `durationCount`. */
  readonly durationsMs: number[];
  /** How many requests the durations stand for. */
  readonly durationCount: number;
  /** Error-log lines by level. */
  readonly logs: Partial<Record<CountedLogLevel, number>>;
}

/** Collects a worker's statsd counts between batches: a few additions per request, no I/O. */
export class StatsdBatcher {
  #statuses: Record<string, number> = {};
  #durations: number[] = [];
  #seen = 0;
  #logs: Partial<Record<CountedLogLevel, number>> = {};
  #empty = true;

  constructor(private readonly random: () => number = Math.random) {}

  request(status: number, seconds: number): void {
    this.#empty = false;
    this.#statuses[status] = (this.#statuses[status] ?? 0) + 1;
    const ms = seconds * 1000;
    this.#seen++;
    // Reservoir sampling (Vitter's algorithm R): every request equally likely to be kept.
    if (this.#durations.length < MAX_DURATIONS_PER_BATCH) this.#durations.push(ms);
    else {
      const slot = Math.floor(this.random() * this.#seen);
      if (slot < MAX_DURATIONS_PER_BATCH) this.#durations[slot] = ms;
    }
  }

  logLine(level: CountedLogLevel): void {
    this.#empty = false;
    this.#logs[level] = (this.#logs[level] ?? 0) + 1;
  }

  /** Everything counted since the last call, or undefined when nothing was. */
  take(): StatsdBatch | undefined {
    if (this.#empty) return undefined;
    const batch: StatsdBatch = { statuses: this.#statuses, durationsMs: this.#durations, durationCount: this.#seen, logs: this.#logs };
    this.#statuses = {};
    this.#durations = [];
    this.#seen = 0;
    this.#logs = {};
    this.#empty = true;
    return batch;
  }
}
