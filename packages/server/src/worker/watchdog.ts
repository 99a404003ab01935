import { Worker } from 'node:worker_threads';

/**
 * Starts the watchdog thread. The main thread stamps `beat[0]` with Date.now() from its event loop;
 * the thread, free of that loop, notices when the stamp goes stale and captures the blocked main
 * thread's JavaScript stack through the inspector (Debugger.pause from another thread works while the
 * loop spins, a signal handler or diagnostic report would wait for it).
 */
export function startWatchdog(options: { timeoutMs: number; reportFd: number }): { beat(): void; stop(): void } {
  const shared = new SharedArrayBuffer(8);
  const stamp = new BigInt64Array(shared);
  const beat = () => Atomics.store(stamp, 0, BigInt(Date.now()));
  beat();
  const thread = new Worker(new URL('./watchdog-thread.js', import.meta.url), {
    workerData: { shared, reportFd: options.reportFd, thresholdMs: Math.max(250, Math.floor(options.timeoutMs * 0.6)) },
    stdout: false,
    stderr: false,
  });
  thread.unref();
  thread.on('error', () => undefined); // a broken watchdog costs the diagnosis, never the worker
  const interval = setInterval(beat, Math.max(50, Math.min(500, Math.floor(options.timeoutMs / 10))));
  interval.unref();
  return {
    beat,
    stop() {
      clearInterval(interval);
      void thread.terminate();
    },
  };
}
