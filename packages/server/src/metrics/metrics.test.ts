import { describe, expect, it } from 'vitest';
import { countRequest, emptyCounters } from './counters.js';
import { renderPrometheus } from './prometheus.js';

describe('renderPrometheus', () => {
  it('sums live and retired workers, with a cumulative histogram', () => {
    const a = emptyCounters();
    countRequest(a, 200, 0.003);
    countRequest(a, 200, 0.2);
    a.loopLagMs = 1.5;
    const retired = emptyCounters();
    countRequest(retired, 500, 20);
    const text = renderPrometheus({ live: new Map([[11, { counters: a, rss: 1000, state: 'ready' }]]), retired, restarts: 2, desiredWorkers: 1 });
    expect(text).toContain('nodicorn_requests_total{status="200"} 2');
    expect(text).toContain('nodicorn_requests_total{status="500"} 1');
    expect(text).toContain('nodicorn_request_duration_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('nodicorn_request_duration_seconds_bucket{le="0.25"} 2');
    expect(text).toContain('nodicorn_request_duration_seconds_bucket{le="10"} 2');
    expect(text).toContain('nodicorn_request_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('nodicorn_request_duration_seconds_count 3');
    expect(text).toContain('nodicorn_workers{state="ready"} 1');
    expect(text).toContain('nodicorn_worker_restarts_total 2');
    expect(text).toContain('nodicorn_event_loop_lag_seconds{pid="11"} 0.0015');
    expect(text).toMatch(/# TYPE nodicorn_request_duration_seconds histogram/);
  });
});
