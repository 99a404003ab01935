// Pure parsing of wrk's text report (run with --latency) into one result shape, shared with the
// autocannon fallback: { requests, seconds, rps, p50Ms, p99Ms, non2xx, socketErrors, errors }.

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "635.91us" | "1.00ms" | "2.01s" → milliseconds. */
export function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function parseWrk(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : 0;
  };
  const pct = (p) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(text);
    return m ? parseDuration(m[1]) : null;
  };
  const total = /(\d+) requests in ([\d.]+\w+)/.exec(text);
  if (!total) throw new Error(`wrk printed no summary:\n${text.slice(0, 2000)}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = sock
    ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/);
  const sockTotal = Object.values(socketErrors).reduce((a, b) => a + b, 0);
  return {
    requests: Number(total[1]),
    seconds: parseDuration(total[2]) / 1000,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: pct(50),
    p99Ms: pct(99),
    non2xx,
    socketErrors,
    errors: non2xx + sockTotal,
  };
}
