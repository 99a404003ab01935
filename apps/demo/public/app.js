// The dashboard: one card per framework, fed by the /ws stats feed (once a second), with buttons that
// call each framework's scenario endpoints. Plain ES modules, no build step, no dependencies.
import { drawChart, colorFor } from './chart.js';

const FRAMEWORKS = ['express', 'koa', 'hono'];
const HISTORY = 60; // seconds of requests-per-second kept per server

const $ = (sel, root = document) => root.querySelector(sel);
const cards = {};
const history = Object.fromEntries(FRAMEWORKS.map((fw) => [fw, []]));
const lastCounts = {}; // fw → Map(pid → [{ requests, at }]), recent samples for request-count deltas
const knownPids = {}; // fw → Set(pid), to log workers coming and going

// ---- formatting ---------------------------------------------------------------------------------

const mb = (bytes) => `${(bytes / 1048576).toFixed(0)} MB`;
function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
const rate = (r) => (r >= 10 ? r.toFixed(0) : r.toFixed(1));
const stateClass = (state) => (state === 'ready' || state === 'running' ? 'pill-ok' : state === 'booting' || state === 'reloading' ? 'pill-wait' : 'pill-bad');

// ---- event log ----------------------------------------------------------------------------------

function log(text, kind = '') {
  const item = document.createElement('li');
  item.className = kind;
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  item.append(time, document.createTextNode(text));
  $('#log').prepend(item);
  while ($('#log').children.length > 80) $('#log').lastElementChild.remove();
}

// ---- cards --------------------------------------------------------------------------------------

function createCard(fw) {
  const node = $('#server-card').content.firstElementChild.cloneNode(true);
  node.id = `server-${fw}`;
  node.dataset.fw = fw;
  $('.fw-name', node).textContent = fw;
  for (const button of node.querySelectorAll('button[data-action]')) {
    button.dataset.fw = fw;
    button.addEventListener('click', () => runScenario(fw, button.dataset.action, button));
  }
  $('#servers').append(node);
  return node;
}

function renderServer(fw, status, at) {
  const card = cards[fw];
  if (!status || status.error) {
    card.classList.add('down');
    $('.master-state', card).className = 'pill master-state pill-bad';
    $('.master-state', card).textContent = status ? 'unreachable' : 'not in stack';
    return;
  }
  card.classList.remove('down');
  $('.master-state', card).className = `pill master-state ${stateClass(status.state)}`;
  $('.master-state', card).textContent = status.state;
  $('.master-pid', card).textContent = status.pid;
  $('.uptime', card).textContent = duration(status.uptimeMs);
  $('.restarts', card).textContent = status.restarts;

  const rates = workerRates(fw, status.workers, at);
  const total = [...rates.values()].reduce((a, b) => a + b, 0);
  $('.total-rate', card).textContent = rate(total);
  history[fw].push({ at, rates });
  if (history[fw].length > HISTORY) history[fw].shift();

  $('.workers tbody', card).replaceChildren(...status.workers.map((w) => workerRow(fw, w, rates.get(w.pid))));
  noticeChanges(fw, status.workers);
  drawChart($('.chart', card), history[fw], HISTORY, (pid) => colorFor(fw, pid));
  $('.legend', card).replaceChildren(...status.workers.map((w) => legendItem(fw, w.pid)));
}

/**
 * Requests per second per worker, over the last few samples rather than the last one: workers report
 * their count with each heartbeat (every timeout/4, 1.25 s here) while the feed samples every second,
 * so a one-sample delta alternates between 0 and double.
 */
const RATE_WINDOW = 4; // samples, about 3 s: always spans at least two heartbeats
function workerRates(fw, workers, at) {
  const prev = lastCounts[fw] ?? new Map();
  const next = new Map();
  const rates = new Map();
  for (const w of workers) {
    const samples = [...(prev.get(w.pid) ?? []), { requests: w.requests, at }].slice(-RATE_WINDOW);
    next.set(w.pid, samples);
    const first = samples[0];
    const seconds = (at - first.at) / 1000;
    rates.set(w.pid, seconds > 0 ? Math.max(0, w.requests - first.requests) / seconds : 0);
  }
  lastCounts[fw] = next;
  return rates;
}

function workerRow(fw, w, r = 0) {
  const row = document.createElement('tr');
  row.dataset.pid = w.pid;
  const cells = [
    [String(w.id), ''],
    [String(w.pid), 'pid'],
    [w.state, ''],
    [w.requests.toLocaleString(), 'num'],
    [mb(w.rss), 'num'],
    [duration(w.ageMs), 'num'],
  ];
  for (const [text, cls] of cells) {
    const td = document.createElement('td');
    td.className = cls;
    td.textContent = text;
    row.append(td);
  }
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = colorFor(fw, w.pid);
  row.cells[1].prepend(swatch);
  const pill = document.createElement('span');
  pill.className = `pill ${stateClass(w.state)}`;
  pill.textContent = w.state;
  row.cells[2].replaceChildren(pill);
  row.title = `${rate(r)} req/s · heartbeat ${w.heartbeatAgeMs} ms ago`;
  return row;
}

function legendItem(fw, pid) {
  const item = document.createElement('span');
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.background = colorFor(fw, pid);
  item.append(swatch, `pid ${pid}`);
  return item;
}

function noticeChanges(fw, workers) {
  const now = new Set(workers.map((w) => w.pid));
  const before = knownPids[fw];
  knownPids[fw] = now;
  if (!before) return;
  for (const pid of before) if (!now.has(pid)) log(`${fw}: worker ${pid} is gone`, 'bad');
  for (const pid of now) if (!before.has(pid)) log(`${fw}: worker ${pid} booted`, 'ok');
}

// ---- who answers --------------------------------------------------------------------------------

async function whoami(fw) {
  try {
    const info = await (await fetch(`/${fw}/api/info`, { cache: 'no-store' })).json();
    const text = `${info.framework} worker ${info.worker} (pid ${info.pid}) answered · scheme ${info.scheme} · client ${info.client}`;
    const line = $('.whoami', cards[fw]);
    line.textContent = text;
    line.dataset.pid = info.pid;
    line.dataset.scheme = info.scheme;
    return info;
  } catch (err) {
    $('.whoami', cards[fw]).textContent = `no answer: ${err.message}`;
    return null;
  }
}

// ---- scenarios ----------------------------------------------------------------------------------

const SCENARIOS = {
  crash: { method: 'POST', path: 'crash', says: 'worker %pid answered, then exited with status 1; the master replaces it' },
  block: { method: 'POST', path: 'block?seconds=8', says: 'event loop blocked past the 5 s timeout; see the master log for the stack' },
  slow: { method: 'GET', path: 'slow?ms=2000', says: 'slow request done; the worker served others meanwhile' },
  download: { method: 'GET', path: 'download?mb=50', says: 'streamed download done' },
  reload: { method: 'POST', path: 'reload', says: 'HUP sent to master %master: new workers boot, old ones drain' },
};

async function runScenario(fw, action, button) {
  const scenario = SCENARIOS[action];
  button.disabled = true;
  button.classList.add('busy');
  const started = performance.now();
  try {
    const res = await fetch(`/${fw}/api/${scenario.path}`, { method: scenario.method, cache: 'no-store' });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (action === 'download') {
      const bytes = (await res.arrayBuffer()).byteLength;
      log(`${fw} download: ${res.status}, ${mb(bytes)} in ${seconds} s`, res.ok ? '' : 'bad');
    } else if (res.ok) {
      const body = await res.json();
      log(`${fw} ${action}: ${scenario.says.replace('%pid', body.pid).replace('%master', body.master)} (${seconds} s)`);
    } else {
      // A blocked worker never answers: the master kills it and the proxy says 502.
      const why = action === 'block' ? 'the master killed the stuck worker' : res.statusText;
      log(`${fw} ${action}: ${res.status} after ${seconds} s — ${why}`, action === 'block' ? 'warn' : 'bad');
    }
  } catch (err) {
    log(`${fw} ${action}: ${err.message}`, 'bad');
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
    void whoami(fw);
  }
}

// ---- live feed ----------------------------------------------------------------------------------

let pingSent = 0;
function connect(delay = 500) {
  const conn = $('#conn');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  let ping;
  ws.onopen = () => {
    delay = 500;
    conn.className = 'pill pill-ok';
    conn.textContent = 'live';
    // The echo doubles as a latency probe through the proxy and the express worker.
    const send = () => {
      pingSent = performance.now();
      ws.send('ping');
    };
    send();
    ping = setInterval(send, 5000);
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === 'echo') conn.textContent = `live · ${Math.round(performance.now() - pingSent)} ms`;
    if (message.type !== 'stats') return;
    for (const fw of FRAMEWORKS) renderServer(fw, message.servers[fw], message.at);
  };
  ws.onclose = () => {
    clearInterval(ping);
    conn.className = 'pill pill-wait';
    conn.textContent = 'reconnecting…';
    // The feed lives on an express worker: crashing or reloading express drops it; come back soon.
    setTimeout(() => connect(Math.min(delay * 2, 5000)), delay);
  };
}

// ---- generated load -----------------------------------------------------------------------------

let loading = false;
async function loadLoop(fw) {
  while (loading) {
    await fetch(`/${fw}/api/info`, { cache: 'no-store' }).catch(() => new Promise((r) => setTimeout(r, 500)));
  }
}

function toggleLoad(on) {
  loading = on;
  if (!on) return;
  // Two loops per framework: enough to see both workers share the load through the proxy.
  for (const fw of FRAMEWORKS) for (let i = 0; i < 2; i++) void loadLoop(fw);
}

// ---- start --------------------------------------------------------------------------------------

for (const fw of FRAMEWORKS) cards[fw] = createCard(fw);
$('#load').addEventListener('change', (e) => toggleLoad(e.target.checked));
$('#clear-log').addEventListener('click', () => $('#log').replaceChildren());
for (const fw of FRAMEWORKS) void whoami(fw);
setInterval(() => FRAMEWORKS.forEach(whoami), 5000);
connect();
log('dashboard loaded');
