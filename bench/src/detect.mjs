// Pure reading of `nodicorn --help` and `nodicorn proxy --help`: which contenders exist yet.

/** What `nodicorn --help` offers: dispatch modes (beyond the implicit shared) and the sync worker class. */
export function detectNodicorn(help, nodeVersion = process.versions.node) {
  const line = (flag) => help.split('\n').find((l) => new RegExp(`${flag}\\b`).test(l)) ?? '';
  const dispatchLine = line('--dispatch');
  // reuse-port is listed everywhere but needs Node >= 22.12 to run (the server refuses it below).
  const [major, minor] = nodeVersion.split('.').map(Number);
  const reusePort = major >= 23 || (major === 22 && minor >= 12);
  const dispatch = dispatchLine
    ? ['shared', 'round-robin', 'reuse-port'].filter((m) => dispatchLine.includes(m) && (m !== 'reuse-port' || reusePort))
    : [];
  const wc = line('--worker-class');
  return { dispatch, sync: /\bsync\b/.test(wc) };
}

/** Flags the proxy contender passes; each must appear in `nodicorn proxy --help`. */
export const PROXY_FLAGS = ['--workers', '--listen', '--tls-cert', '--tls-key', '--static', '--upstream', '--access-log', '--gzip', '--gzip-comp-level'];

/**
 * Whether `nodicorn proxy` is there: `--help` exits 0 with the proxy's own help (today the CLI falls
 * through to the server's help, which also exits 0) and knows every flag in PROXY_FLAGS.
 */
export function detectProxy(status, help) {
  if (status !== 0) return { ok: false, why: `nodicorn proxy --help exited ${status}` };
  if (/Usage: nodicorn \[OPTIONS\] APP/.test(help)) return { ok: false, why: 'no `nodicorn proxy` command yet (falls through to the server)' };
  const missing = PROXY_FLAGS.filter((f) => !new RegExp(`${f}\\b`).test(help));
  if (missing.length) return { ok: false, why: `nodicorn proxy lacks ${missing.join(', ')} (update bench/src/contenders.mjs proxyArgs)` };
  return { ok: true };
}
