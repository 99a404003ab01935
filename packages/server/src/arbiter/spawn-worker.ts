import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { childExecArgv } from '../process/exec-argv.js';
import { WORKER_ENV, isWorkerMessage, type BlockedReport, type ConnectionMessage, type WorkerConfig, type WorkerMessage } from '../protocol.js';

/** What the arbiter needs of a worker process; the real one wraps a ChildProcess. */
export interface WorkerProcess {
  readonly pid: number;
  kill(signal: NodeJS.Signals): void;
  /** Sends a message over the IPC channel, if it is still open. */
  send(message: object): void;
  /** Hands an accepted connection over; resolves false when the worker could not take it. */
  sendConnection(socket: Socket): Promise<boolean>;
  onMessage(listener: (message: WorkerMessage) => void): void;
  onBlocked(listener: (report: BlockedReport) => void): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** With capture_output: each line the worker wrote to stdout or stderr. */
  onOutput(listener: (line: string) => void): void;
}

export interface SpawnRequest {
  readonly config: Omit<WorkerConfig, 'listenFds' | 'watchdogFd'>;
  readonly listenerFds: readonly number[];
  readonly env: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
}

export type SpawnWorker = (request: SpawnRequest) => WorkerProcess;

const WORKER_ENTRY = fileURLToPath(new URL('../worker/boot.js', import.meta.url));
const WATCHDOG_FD = 4;
const FIRST_LISTEN_FD = 5;


/**
 * The one way a worker process is started. Descriptors: 0 ignored, 1–2 the master's, 3 the IPC
 * channel, 4 the watchdog's pipe, 5… the listening sockets in --bind order.
 */
export const spawnWorker: SpawnWorker = (request) => {
  const capture = request.config.settings.captureOutput;
  const listenFds = request.listenerFds.map((_, i) => FIRST_LISTEN_FD + i);
  const config: WorkerConfig = { ...request.config, listenFds, watchdogFd: WATCHDOG_FD };
  const child: ChildProcess = spawn(process.execPath, [...childExecArgv(), WORKER_ENTRY], {
    stdio: ['ignore', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit', 'ipc', 'pipe', ...request.listenerFds],
    // NODICORN_WORKER_ID: the worker's sequential age, for apps that show which worker answered.
    env: { ...request.env, [WORKER_ENV]: JSON.stringify(config), NODICORN_WORKER_ID: String(config.id) },
    cwd: request.config.settings.chdir,
    ...(request.uid !== undefined ? { uid: request.uid } : {}),
    ...(request.gid !== undefined ? { gid: request.gid } : {}),
  });
  if (child.pid === undefined) throw new Error('worker process could not be spawned');
  const pid = child.pid;
  const watchdogPipe = child.stdio[WATCHDOG_FD] as Readable | null;
  return {
    pid,
    kill(signal) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
    send(message) {
      if (child.connected) child.send(message, undefined, undefined, () => undefined);
    },
    sendConnection(socket) {
      const message: ConnectionMessage = { type: 'connection' };
      return new Promise((resolve) => {
        if (!child.connected) return resolve(false);
        // keepOpen false: once the handle is across, the master's copy is closed.
        child.send(message, socket, { keepOpen: false }, (err) => resolve(!err));
      });
    },
    onMessage(listener) {
      child.on('message', (message) => {
        if (isWorkerMessage(message)) listener(message);
      });
    },
    onBlocked(listener) {
      if (!watchdogPipe) return;
      createInterface({ input: watchdogPipe }).on('line', (line) => {
        try {
          listener(JSON.parse(line) as BlockedReport);
        } catch {
          // a torn line from a worker killed mid-write
        }
      });
    },
    onOutput(listener) {
      for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', listener);
    },
    onExit(listener) {
      child.on('error', () => undefined);
      child.once('exit', listener);
    },
  };
};
