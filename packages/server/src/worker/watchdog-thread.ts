import { writeSync } from 'node:fs';
import { Session } from 'node:inspector';
import { workerData } from 'node:worker_threads';
import type { BlockedReport } from '../protocol.js';
import { TRACKER_GLOBAL } from './request-tracker.js';

interface CallFrame {
  callFrameId: string;
  functionName: string;
  url: string;
  location: { scriptId: string; lineNumber: number; columnNumber: number };
}

const { shared, reportFd, thresholdMs } = workerData as { shared: SharedArrayBuffer; reportFd: number; thresholdMs: number };
const stamp = new BigInt64Array(shared);
// Connected only while capturing: an idle session would make the worker print "Waiting for the
// debugger to disconnect..." at every exit.
const session = new Session();

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

// Call frames carry a scriptId; the script's URL arrives in the scriptParsed events that
// Debugger.enable replays for every loaded script.
const scriptUrls = new Map<string, string>();
session.on('Debugger.scriptParsed', (message) => {
  const { scriptId, url } = message.params as { scriptId: string; url: string };
  if (url) scriptUrls.set(scriptId, url);
});

function formatFrame(frame: CallFrame): string {
  const url = frame.url || scriptUrls.get(frame.location.scriptId) || '<anonymous>';
  const where = `${url}:${frame.location.lineNumber + 1}:${frame.location.columnNumber + 1}`;
  return frame.functionName ? `at ${frame.functionName} (${where})` : `at ${where}`;
}

const READ_REQUEST = `(() => { const t = globalThis.${TRACKER_GLOBAL}; const r = t && t.suspect(); return r ? JSON.stringify(r) : null; })()`;

/** Pauses the main thread, reads where it is and what it serves, resumes it. */
async function capture(blockedMs: number): Promise<BlockedReport> {
  session.connectToMainThread();
  try {
    return await captureConnected(blockedMs);
  } finally {
    session.disconnect();
  }
}

async function captureConnected(blockedMs: number): Promise<BlockedReport> {
  const paused = new Promise<CallFrame[]>((resolve) => {
    session.once('Debugger.paused', (message) => resolve((message.params as { callFrames: CallFrame[] }).callFrames));
  });
  await post('Debugger.enable');
  try {
    await post('Debugger.pause');
    const frames = await paused;
    let request = null;
    const top = frames[0];
    if (top) {
      const evaluated = await post<{ result: { value?: string } }>('Debugger.evaluateOnCallFrame', {
        callFrameId: top.callFrameId,
        expression: READ_REQUEST,
        returnByValue: true,
        silent: true,
      });
      if (typeof evaluated.result.value === 'string') request = JSON.parse(evaluated.result.value);
    }
    await post('Debugger.resume');
    return { type: 'blocked', blockedMs, request, stack: frames.slice(0, 20).map(formatFrame) };
  } finally {
    await post('Debugger.disable').catch(() => undefined);
  }
}

let reported = false;
let capturing = false;
setInterval(() => {
  const blockedMs = Date.now() - Number(Atomics.load(stamp, 0));
  if (blockedMs < thresholdMs) {
    reported = false;
    return;
  }
  if (reported || capturing) return;
  capturing = true;
  const timer = setTimeout(() => write({ type: 'blocked', blockedMs, request: null, stack: [], error: 'the inspector did not answer within 2 s' }), 2000);
  capture(blockedMs)
    .then(write, (err: unknown) => write({ type: 'blocked', blockedMs, request: null, stack: [], error: String(err) }))
    .finally(() => {
      clearTimeout(timer);
      reported = true;
      capturing = false;
    });
}, Math.max(50, Math.floor(thresholdMs / 5)));

function write(report: BlockedReport): void {
  try {
    writeSync(reportFd, JSON.stringify(report) + '\n');
  } catch {
    // the master is gone; nothing to tell
  }
}
