// Pure reading of `nodicorn --help` and `nodicorn proxy --help`: which contenders exist yet.

/** What `nodicorn --help` offers: dispatch modes (beyond the implicit shared) and the sync worker class. */
export function detectNodicorn(help) {
  const line = (flag) => help.split('\n').find((l) => new RegExp(`${flag}\\b`).test(l)) ?? '';
  const dispatchLine = line('--dispatch');
  const dispatch = dispatchLine
    ? ['shared', 'round-robin', 'reuse-port'].filter((m) => dispatchLine.includes(m))
    : [];
  const wc = line('--worker-class');
  return { dispatch, sync: /\bsync\b/.test(wc) };
}

/** Flags the proxy contender passes; each must appear in `nodicorn proxy --help`. */
export const PROXY_FLAGS = ['--bind', '--tls-bind', '--cert', '--key', '--static', '--upstream'];

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
