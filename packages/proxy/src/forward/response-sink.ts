import type { Writable } from 'node:stream';
import { TempFile } from './temp-file.js';

export interface SinkOptions {
  /** Read the upstream as fast as it sends (nginx proxy_buffering on), or pace it to the client. */
  readonly buffering: boolean;
  /** Bytes queued in memory for the client before spilling to a temp file. */
  readonly memory: number;
  /** Largest temp file; past it the upstream is paced to the client after all. */
  readonly maxFile: number;
  /** Restarts a paused upstream read (undici's `resume`). */
  readonly resume: () => void;
}

const READ_SIZE = 64 * 1024;

/**
 * Where an upstream response body goes. Buffered: chunks go to the client socket's queue while it
 * holds less than `memory` bytes, then to a temp file drained as the client reads, so a slow client
 * never holds the upstream connection (and the app worker behind it). Unbuffered: each chunk is
 * written at once and the upstream is paused while the client is behind.
 */
export class ResponseSink {
  bytes = 0;
  #file: TempFile | null = null;
  #readPos = 0;
  #ended = false;
  #paused = false;

  constructor(
    /** The client response, or the encoder in front of it. */
    private readonly res: Writable,
    private readonly options: SinkOptions,
  ) {}

  /** Returns false to pause the upstream. */
  write(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    const { res, options } = this;
    if (!options.buffering) {
      if (res.write(chunk)) return true;
      this.#pause();
      return false;
    }
    if (!this.#file && res.writableLength < options.memory) {
      res.write(chunk);
      return true;
    }
    if (!this.#file) {
      this.#file = new TempFile();
      res.on('drain', this.#pump);
      this.#kick();
    }
    this.#file.append(chunk);
    if (this.#file.size - this.#readPos > options.maxFile) {
      this.#paused = true;
      return false;
    }
    return true;
  }

  end(): void {
    this.#ended = true;
    if (!this.#file) this.res.end();
  }

  /** Frees the temp file when the exchange is over, however it ended. */
  dispose(): void {
    this.#file?.close();
    this.#file = null;
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.res.once('drain', () => {
      this.#paused = false;
      this.options.resume();
    });
  }

  /** 'drain' only follows a write that returned false; with a memory limit under the socket's
   * high-water mark none may have, so pump again on the next turn instead. */
  #kick(): void {
    if (!this.res.writableNeedDrain) setImmediate(this.#pump);
  }

  #pump = (): void => {
    const file = this.#file;
    if (!file || this.res.destroyed) return;
    while (this.res.writableLength < this.options.memory && this.#readPos < file.size) {
      const chunk = file.read(this.#readPos, READ_SIZE);
      if (chunk.length === 0) break;
      this.#readPos += chunk.length;
      this.res.write(chunk);
    }
    if (this.#readPos < file.size) return this.#kick();
    // Caught up: back to memory mode for whatever the upstream still sends.
    this.res.off('drain', this.#pump);
    file.close();
    this.#file = null;
    this.#readPos = 0;
    if (this.#ended) this.res.end();
    else if (this.#paused) {
      this.#paused = false;
      this.options.resume();
    }
  };
}
