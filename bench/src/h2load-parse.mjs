// Pure parsing of h2load's text report into the shape parseWrk returns, for the HTTP/2 row:
// { requests, seconds, rps, p50Ms, p99Ms, meanMs, non2xx, socketErrors, errors }. h2load prints
// min/max/mean/sd of request time but no percentiles, so p50Ms and p99Ms are null (shown as –)
// and the mean is kept beside them.
import { parseDuration } from './wrk-parse.mjs';

export function parseH2load(text) {
  const finished = /finished in ([\d.]+\w+), ([\d.]+) req\/s/.exec(text);
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text);
  if (!finished || !req) throw new Error(`h2load printed no summary:\n${text.slice(0, 2000)}`);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(text);
  const [, , , , succeeded, failed, errored, timeout] = req.map(Number);
  // 3xx counts as an answer, as wrk's "Non-2xx or 3xx" does not: only 4xx and 5xx are errors here.
  const non2xx = codes ? Number(codes[3]) + Number(codes[4]) : 0;
  return {
    requests: succeeded,
    seconds: parseDuration(finished[1]) / 1000,
    rps: Number(finished[2]),
    p50Ms: null,
    p99Ms: null,
    meanMs: mean ? parseDuration(mean[1]) : null,
    non2xx,
    socketErrors: { connect: 0, read: errored, write: 0, timeout },
    // `failed` already includes the errored and timed-out ones.
    errors: failed + non2xx,
  };
}
