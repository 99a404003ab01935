// Pure arithmetic over rounds: medians, per-round ratios, target verdicts.

/** Median of the finite numbers in `xs`; null when there are none. */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/**
 * The median over rounds of contender/baseline for `metric`, each ratio taken within one round, so
 * that drift on a noisy machine (the contenders alternate inside a round) cancels out.
 * `samples` and `base` are arrays indexed by round; a failed round is null.
 */
export function medianRatio(samples, base, metric) {
  return median(samples.map((s, i) => ratio(s?.[metric], base?.[i]?.[metric])));
}

/** "min–max" of the per-round ratios, to show how far a noisy machine moved them; null if under 2 rounds. */
export function ratioSpread(samples, base, metric) {
  const v = samples.map((s, i) => ratio(s?.[metric], base?.[i]?.[metric])).filter((x) => x !== null);
  if (v.length < 2) return null;
  return `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
}

/** Sum of a numeric field over the rounds that ran. */
export function total(samples, field) {
  return samples.reduce((acc, s) => acc + (s && typeof s[field] === 'number' ? s[field] : 0), 0);
}

/** One row of a load table: medians of rps and latency, errors summed over rounds, the ratio. */
export function summarizeLoad(samples, base, ratioMetric = 'rps') {
  return {
    rounds: samples.filter(Boolean).length,
    rps: median(samples.map((s) => s?.rps)),
    p50Ms: median(samples.map((s) => s?.p50Ms)),
    p99Ms: median(samples.map((s) => s?.p99Ms)),
    errors: total(samples, 'errors'),
    requests: total(samples, 'requests'),
    ratio: base ? medianRatio(samples, base, ratioMetric) : null,
    spread: base ? ratioSpread(samples, base, ratioMetric) : null,
    cpuUsPerReq: median(samples.map((s) => s?.cpuUsPerReq)),
    cpuRatio: base ? medianRatio(samples, base, 'cpuUsPerReq') : null,
  };
}

/** Verdict for a target: `measured` against `goal` with `op` ('>=' | '<=' | '=='). */
export function verdict(measured, op, goal) {
  if (measured === null || measured === undefined) return 'not measured';
  const met = op === '>=' ? measured >= goal : op === '<=' ? measured <= goal : measured === goal;
  return met ? 'met' : 'missed';
}
