// A small line chart on a canvas: requests per second per worker pid over the last minute.
// Drawn at the device's pixel ratio so lines stay crisp on high-density screens.

// Neighbours contrast: consecutive workers of one server never get two similar hues.
const PALETTE = ['#60a5fa', '#f472b6', '#fbbf24', '#34d399', '#a78bfa', '#fb923c', '#2dd4bf', '#f87171'];
const colors = new Map(); // server → Map(pid → colour)

/**
 * A stable colour per worker of one server: a replacement gets the next colour, so the handover is
 * visible on the chart. Each server counts from the start of the palette.
 */
export function colorFor(server, pid) {
  if (!colors.has(server)) colors.set(server, new Map());
  const mine = colors.get(server);
  if (!mine.has(pid)) mine.set(pid, PALETTE[mine.size % PALETTE.length]);
  return mine.get(pid);
}

/** The smallest "nice" grid step (1, 2, 5 × 10^n, never below 1) at or above `value`. */
function niceStep(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * `history` is `[{ at, rates: Map(pid → req/s) }]`, oldest first; `slots` is the window in samples;
 * `color(pid)` the line colour.
 */
export function drawChart(canvas, history, slots, color) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const pad = { left: 30, right: 6, top: 8, bottom: 8 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  let peak = 0;
  for (const sample of history) for (const r of sample.rates.values()) peak = Math.max(peak, r);
  const max = 4 * niceStep(peak / 4); // four bands, each a round number
  const x = (i) => pad.left + (plotW * (slots - history.length + i)) / (slots - 1);
  const y = (r) => pad.top + plotH - (plotH * r) / max;

  // Grid and axis labels: four bands are enough to read a rate at a glance.
  const style = getComputedStyle(canvas);
  ctx.font = `10px ${style.fontFamily}`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    ctx.strokeStyle = style.getPropertyValue('--grid') || '#333';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(pad.left, Math.round(y(value)) + 0.5);
    ctx.lineTo(width - pad.right, Math.round(y(value)) + 0.5);
    ctx.stroke();
    ctx.fillStyle = style.getPropertyValue('--axis') || '#888';
    ctx.fillText(String(value), pad.left - 6, y(value));
  }

  // One line per pid, from its first sample to its last: a crashed worker's line simply stops.
  const pids = new Set();
  for (const sample of history) for (const pid of sample.rates.keys()) pids.add(pid);
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  for (const pid of pids) {
    ctx.strokeStyle = color(pid);
    ctx.beginPath();
    let drawing = false;
    history.forEach((sample, i) => {
      const r = sample.rates.get(pid);
      if (r === undefined) {
        drawing = false;
        return;
      }
      if (drawing) ctx.lineTo(x(i), y(r));
      else ctx.moveTo(x(i), y(r));
      drawing = true;
    });
    ctx.stroke();
  }
}
