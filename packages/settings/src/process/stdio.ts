/**
 * A closed stdout/stderr pipe (`nodicorn app.js:app 2>&1 | head -c 10`, or a stack supervisor that
 * was SIGKILLed) makes every later write to it fail with EPIPE, emitted as an 'error' event. Left
 * unhandled, that is an uncaught exception: an app's `console.log` would take its worker down on
 * every request, and the master would replace it in a loop; in the proxy the error re-enters the
 * error log, which writes to the same broken pipe, a 100% CPU loop that never reaches the TERM
 * handler. A broken stdio stream is muted instead, as Gunicorn's workers and nginx carry on when
 * their log descriptor goes away; the logs nodicorn writes itself check stdioWritable first.
 * Calling it again (the CLI, then the proxy it runs) adds nothing.
 */
export function muteBrokenStdio(): void {
  if (muted) return;
  muted = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      brokenStdio.add(stream);
      stream.destroy();
    });
  }
}

let muted = false;
const brokenStdio = new Set<NodeJS.WriteStream>();

/** False once the stream's reader went away: a caller about to write can skip the work. */
export const stdioWritable = (stream: NodeJS.WriteStream): boolean => !brokenStdio.has(stream) && !stream.destroyed;
