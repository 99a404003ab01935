/**
 * Gunicorn's settings that nodicorn does not take, each with why: a user porting a gunicorn.conf.py
 * (or a command line) learns what maps to what instead of reading "unknown option". The flag and
 * the config key are answered with this reason; docs/settings.md lists them all.
 */
export interface NotTaken {
  /** Gunicorn's command-line flags for it (none for config-file-only settings and hooks). */
  readonly flags: readonly string[];
  readonly why: string;
}

const LOGGING_CONFIG = "Python's logging configuration; nodicorn writes Gunicorn's log formats itself (`--access-logformat`, including `json`) to files or stdout/stderr.";
const SYSLOG = 'Log to stdout/stderr or to files and let journald or the container runtime collect them (the units from `nodicorn deploy systemd` do).';
const STRICT_PARSER = "Node's HTTP parser (llhttp) follows RFC 9112 strictly and cannot be loosened per server: the request is refused (400 or 505), as Gunicorn's default does.";
const NOT_YET = 'Not yet in nodicorn (planned).';

export const GUNICORN_NOT_TAKEN: Readonly<Record<string, NotTaken>> = {
  threads: { flags: ['--threads'], why: 'A Node worker is one event loop: concurrency comes from asynchronous I/O (`-k async`) and more workers. For CPU-heavy handlers use `-k sync` or worker threads in the app.' },
  preload_app: { flags: ['--preload'], why: "Node cannot fork a process that has a running V8 heap, so there is no copy-on-write sharing: each worker loads the app. Work to do once per server goes in the `onStarting` hook, which runs in the master." },
  sendfile: { flags: ['--no-sendfile'], why: "Node's HTTP server has no sendfile path for responses; static files are the proxy's job (`nodicorn proxy --static`)." },
  reuse_port: { flags: ['--reuse-port'], why: 'Taken as `--dispatch reuse-port` (Node ≥ 22.12).' },
  worker_tmp_dir: { flags: ['--worker-tmp-dir'], why: "Gunicorn's heartbeat is a file each worker touches; nodicorn's is an IPC message and a watchdog thread, with no file." },
  initgroups: { flags: ['--initgroups'], why: NOT_YET },
  tmp_upload_dir: { flags: [], why: 'Unused by Gunicorn itself; request bodies stream to the app.' },
  pythonpath: { flags: ['--pythonpath'], why: "Python's sys.path; Node resolves modules from the app's directory (`--chdir`), or NODE_PATH." },
  paste: { flags: ['--paste', '--paster'], why: 'PasteDeploy is Python only; the APP argument names the module and export.' },
  raw_paste_global_conf: { flags: ['--paste-global'], why: 'PasteDeploy is Python only.' },
  reload_engine: { flags: ['--reload-engine'], why: '`--reload` watches with chokidar (inotify on Linux); there is no engine to choose.' },
  spew: { flags: ['--spew'], why: "Python's line tracer; in Node profile with `NODE_OPTIONS=--cpu-prof` or the inspector." },
  logger_class: { flags: ['--logger-class'], why: LOGGING_CONFIG },
  logconfig: { flags: ['--log-config'], why: LOGGING_CONFIG },
  logconfig_dict: { flags: [], why: LOGGING_CONFIG },
  logconfig_json: { flags: ['--log-config-json'], why: LOGGING_CONFIG },
  syslog: { flags: ['--log-syslog'], why: SYSLOG },
  syslog_addr: { flags: ['--log-syslog-to'], why: SYSLOG },
  syslog_prefix: { flags: ['--log-syslog-prefix'], why: SYSLOG },
  syslog_facility: { flags: ['--log-syslog-facility'], why: SYSLOG },
  disable_redirect_access_to_syslog: { flags: ['--disable-redirect-access-to-syslog'], why: SYSLOG },
  enable_stdio_inheritance: { flags: ['-R', '--enable-stdio-inheritance'], why: "Workers always inherit the master's stdout and stderr (or, with `--capture-output`, write into the error log)." },
  default_proc_name: { flags: [], why: 'Internal to Gunicorn; nodicorn names processes from `--name`, else the APP.' },
  ssl_version: { flags: ['--ssl-version'], why: "Python's protocol constants, deprecated there in favour of the context's minimum version: use `--tls-min-version TLSv1.2|TLSv1.3` (Node never offers SSLv3, TLS 1.0 or 1.1 by default)." },
  suppress_ragged_eofs: { flags: ['--suppress-ragged-eofs'], why: "A Python ssl-module switch for a peer that closes TCP without TLS's close_notify; Node's TLS socket always takes that as the end of the stream, which is Gunicorn's default (True)." },
  do_handshake_on_connect: { flags: ['--do-handshake-on-connect'], why: "A Python ssl-module switch: Node's TLS server always handshakes as a connection is accepted, before the first request is read, and there is nothing to defer." },
  ssl_context: { flags: [], why: 'A Python hook; `--certfile`, `--keyfile`, `--ca-certs`, `--cert-reqs`, `--ciphers` and `--tls-min-version` configure TLS, and the proxy terminates it in most setups.' },
  strip_header_spaces: { flags: ['--strip-header-spaces'], why: STRICT_PARSER },
  tolerate_dangerous_framing: { flags: ['--tolerate-dangerous-framing'], why: STRICT_PARSER },
  permit_obsolete_folding: { flags: ['--permit-obsolete-folding'], why: STRICT_PARSER },
  permit_unconventional_http_method: { flags: ['--permit-unconventional-http-method'], why: STRICT_PARSER },
  permit_unconventional_http_version: { flags: ['--permit-unconventional-http-version'], why: STRICT_PARSER },
  casefold_http_method: { flags: ['--casefold-http-method'], why: STRICT_PARSER },
  forwarder_headers: { flags: ['--forwarder-headers'], why: 'A WSGI environ detail (which underscore headers reach the app); Node hands headers to the app as received.' },
  header_map: { flags: ['--header-map'], why: 'A WSGI environ detail (how headers with underscores map into it); Node has no environ to map into.' },
};

/** Gunicorn's setting behind a flag or config key nodicorn does not take, with why. */
export function notTaken(flagOrKey: string): { name: string; why: string } | undefined {
  const key = flagOrKey.replace(/=.*$/, '');
  for (const [name, entry] of Object.entries(GUNICORN_NOT_TAKEN)) {
    if (name === key || entry.flags.includes(key)) return { name, why: entry.why };
  }
  return undefined;
}
