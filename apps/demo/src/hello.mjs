// The smallest demo app: a plain Node request listener, served by nodicorn's pre-fork workers.
export const app = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/block') {
    // Blocks this worker's event loop past --timeout: watch the master kill it, name the request and
    // the line it was stuck on, and boot a replacement.
    for (;;);
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ hello: 'nodicorn', pid: process.pid, path: url.pathname }) + '\n');
};
