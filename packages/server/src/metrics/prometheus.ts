import { DURATION_BUCKETS, addCounters, emptyCounters, type WorkerCounters } from './counters.js';

export interface MetricsInput {
  /** Counters of live workers, by pid. */
  readonly live: ReadonlyMap<number, { counters: WorkerCounters; rss: number; state: string }>;
  /** Everything counted by workers that have exited, so server-wide counters never go down. */
  readonly retired: WorkerCounters;
  readonly restarts: number;
  readonly desiredWorkers: number;
}

/** The server's metrics in Prometheus's text exposition format (version 0.0.4). */
export function renderPrometheus(input: MetricsInput): string {
  const total = addCounters(addCounters(emptyCounters(), input.retired), emptyCounters());
  for (const { counters } of input.live.values()) addCounters(total, counters);
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  metric('nodicorn_requests_total', 'counter', 'Requests answered, by status code, across all workers past and present.');
  for (const [status, n] of Object.entries(total.statuses).sort()) lines.push(`nodicorn_requests_total{status="${status}"} ${n}`);

  metric('nodicorn_request_duration_seconds', 'histogram', 'Time from request to response end.');
  let cumulative = 0;
  DURATION_BUCKETS.forEach((le, i) => {
    cumulative += total.buckets[i] ?? 0;
    lines.push(`nodicorn_request_duration_seconds_bucket{le="${le}"} ${cumulative}`);
  });
  cumulative += total.buckets[DURATION_BUCKETS.length] ?? 0;
  lines.push(`nodicorn_request_duration_seconds_bucket{le="+Inf"} ${cumulative}`);
  lines.push(`nodicorn_request_duration_seconds_sum ${total.durationSum}`, `nodicorn_request_duration_seconds_count ${cumulative}`);

  metric('nodicorn_workers', 'gauge', 'Worker processes by state.');
  const byState = new Map<string, number>();
  for (const { state } of input.live.values()) byState.set(state, (byState.get(state) ?? 0) + 1);
  for (const [state, n] of byState) lines.push(`nodicorn_workers{state="${state}"} ${n}`);
  metric('nodicorn_workers_desired', 'gauge', 'Workers the master keeps (-w, TTIN/TTOU).');
  lines.push(`nodicorn_workers_desired ${input.desiredWorkers}`);
  metric('nodicorn_worker_restarts_total', 'counter', 'Workers replaced after a crash or a timeout.');
  lines.push(`nodicorn_worker_restarts_total ${input.restarts}`);
  metric('nodicorn_worker_rss_bytes', 'gauge', 'Resident memory of each worker.');
  for (const [pid, { rss }] of input.live) lines.push(`nodicorn_worker_rss_bytes{pid="${pid}"} ${rss}`);
  metric('nodicorn_event_loop_lag_seconds', 'gauge', "Mean event-loop delay of each worker over its last heartbeat period.");
  for (const [pid, { counters }] of input.live) lines.push(`nodicorn_event_loop_lag_seconds{pid="${pid}"} ${counters.loopLagMs / 1000}`);
  return lines.join('\n') + '\n';
}

/** With --statsd-host beside --metrics-bind: what the statsd client could not send (it never says so in the log). */
export function renderStatsdPrometheus(sink: { sendErrors: number; datagramsSent: number }): string {
  return [
    '# HELP nodicorn_statsd_datagrams_sent_total Datagrams the master sent to --statsd-host.',
    '# TYPE nodicorn_statsd_datagrams_sent_total counter',
    `nodicorn_statsd_datagrams_sent_total ${sink.datagramsSent}`,
    '# HELP nodicorn_statsd_send_errors_total Datagrams to --statsd-host that failed (no listener, no route); they are dropped.',
    '# TYPE nodicorn_statsd_send_errors_total counter',
    `nodicorn_statsd_send_errors_total ${sink.sendErrors}`,
  ].join('\n') + '\n';
}
