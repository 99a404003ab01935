import type { ServerStatus } from './protocol.js';

let nextId = 1;

/**
 * The server's stats — master, workers, requests, memory — read from inside a worker, so an app can
 * show them (the demo's dashboard does). Asks the master over the worker's IPC channel.
 */
export function serverStats(timeoutMs = 2000): Promise<ServerStatus> {
  if (!process.send || !process.connected) {
    return Promise.reject(new Error('serverStats() works only inside a nodicorn worker'));
  }
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type?: string; id?: number; status?: ServerStatus }) => {
      if (message?.type !== 'stats' || message.id !== id || !message.status) return;
      cleanup();
      resolve(message.status);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the master did not answer a stats request within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    process.send!({ type: 'stats', id });
  });
}
