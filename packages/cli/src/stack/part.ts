import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One process of a stack: a nodicorn server or the proxy, its output prefixed and merged. */
export class StackPart {
  child: ChildProcess | null = null;
  readonly lines: string[] = [];
  #readyResolve!: () => void;
  #readyReject!: (err: Error) => void;
  readonly ready: Promise<void>;
  exited: Promise<number | null> = Promise.resolve(null);
  isReady = false;

  constructor(
    readonly name: string,
    readonly kind: 'server' | 'proxy',
    readonly command: readonly string[],
    private readonly options: { cwd: string; env: NodeJS.ProcessEnv; readyPattern: RegExp; write: (part: StackPart, line: string) => void },
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.ready.catch(() => undefined);
  }

  start(): void {
    // Its own process group: a terminal's Ctrl-C reaches only the stack, which then stops every part
    // gracefully (TERM) instead of each part getting the fast-stop INT at once.
    const child = spawn(this.command[0]!, this.command.slice(1), { cwd: this.options.cwd, env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > 200) this.lines.shift();
        this.options.write(this, line);
        if (!this.isReady && this.options.readyPattern.test(line)) {
          this.isReady = true;
          this.#readyResolve();
        }
      });
    }
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        if (!this.isReady) this.#readyReject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before it was ready`));
        resolve(code);
      });
      child.once('error', (err) => {
        this.#readyReject(err);
        resolve(null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child?.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Why it failed, from what it printed: its error lines (with what follows each), else its last lines. */
  why(n = 8): string {
    const first = this.lines.findIndex((l) => /\[(ERROR|CRITICAL)\]|error:/i.test(l));
    const lines = first >= 0 ? this.lines.slice(first, first + n) : this.lines.slice(-n);
    return lines.map((l) => `    ${l}`).join('\n');
  }
}
