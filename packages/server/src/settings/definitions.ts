import type { SettingSpec } from './types.js';
import {
  atLeast,
  booleanType,
  choiceType,
  intType,
  optionalStringType,
  secondsType,
  stringListType,
  stringType,
  umaskType,
} from './value-types.js';

/** Gunicorn's default access log format (NCSA combined). */
export const DEFAULT_ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DISPATCH_MODES = ['shared', 'round-robin', 'reuse-port'] as const;
export type Dispatch = (typeof DISPATCH_MODES)[number];
export const WORKER_CLASSES = ['async', 'sync'] as const;
export type WorkerClass = (typeof WORKER_CLASSES)[number];

const setting = <T>(spec: SettingSpec<T>): SettingSpec<T> => spec;

/**
 * Every setting nodicorn has, declared once. The CLI parser, --help, env handling and the settings
 * docs are all derived from this object (Gunicorn's config.py model). Keys are the camelCase config
 * file names; `name` is Gunicorn's snake_case.
 */
export const SETTINGS = {
  app: setting<string>({
    name: 'wsgi_app',
    section: 'Config',
    flags: [],
    type: { ...stringType, meta: 'APP' },
    default: '',
    defaultDoc: 'none',
    doc: 'The app to serve, MODULE[:NAME] or MODULE:FACTORY(args); usually the positional APP argument.',
  }),
  bind: setting<string[]>({
    name: 'bind',
    section: 'Server socket',
    flags: ['-b', '--bind'],
    type: { ...stringListType, meta: 'ADDRESS' },
    repeatable: true,
    default: (env) => (env.PORT ? [`0.0.0.0:${env.PORT}`] : ['127.0.0.1:8000']),
    defaultDoc: "['127.0.0.1:8000'], or ['0.0.0.0:$PORT'] when PORT is set",
    doc: 'Socket to bind: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N. Repeat to bind several. Inherited systemd sockets (LISTEN_FDS) are used when present.',
  }),
  backlog: setting<number>({
    name: 'backlog',
    section: 'Server socket',
    flags: ['--backlog'],
    type: intType,
    default: 2048,
    validate: atLeast(1),
    doc: 'The maximum number of pending connections the kernel queues on each listening socket.',
  }),
  dispatch: setting<Dispatch>({
    name: 'dispatch',
    section: 'Worker processes',
    flags: ['--dispatch'],
    type: choiceType(DISPATCH_MODES),
    default: 'shared',
    doc: 'How connections reach workers: shared (workers accept on the shared sockets, as Gunicorn), round-robin (the master accepts and deals them out, as node:cluster) or reuse-port (each worker binds with SO_REUSEPORT; Node >= 22.12, fixed TCP ports only).',
  }),
  workerClass: setting<WorkerClass>({
    name: 'worker_class',
    section: 'Worker processes',
    flags: ['-k', '--worker-class'],
    type: choiceType(WORKER_CLASSES),
    default: 'async',
    doc: "async: each worker's event loop serves many connections at once. sync: one connection at a time per worker, no keep-alive; the master hands each connection to a free worker and queues the rest, so fast requests never wait behind a CPU-heavy one.",
  }),
  workers: setting<number>({
    name: 'workers',
    section: 'Worker processes',
    flags: ['-w', '--workers'],
    type: intType,
    default: (env) => (env.WEB_CONCURRENCY && /^\d+$/.test(env.WEB_CONCURRENCY) ? Number(env.WEB_CONCURRENCY) : 1),
    defaultDoc: '$WEB_CONCURRENCY or 1',
    validate: atLeast(1),
    doc: 'The number of worker processes serving requests.',
  }),
  timeout: setting<number>({
    name: 'timeout',
    section: 'Worker processes',
    flags: ['-t', '--timeout'],
    type: secondsType,
    default: 30,
    validate: (v) => (v >= 0 ? undefined : `must be 0 (off) or more, got ${v}`),
    doc: "Workers whose event loop is silent for this many seconds are killed and replaced; the log names the request and the stack where the loop was stuck. 0 turns it off.",
  }),
  gracefulTimeout: setting<number>({
    name: 'graceful_timeout',
    section: 'Worker processes',
    flags: ['--graceful-timeout'],
    type: secondsType,
    default: 30,
    validate: atLeast(0),
    doc: 'After a stop or a replacement, workers have this long to finish in-flight requests before they are killed.',
  }),
  keepalive: setting<number>({
    name: 'keepalive',
    section: 'Worker processes',
    flags: ['--keep-alive'],
    type: secondsType,
    default: 2,
    validate: atLeast(0),
    doc: 'Seconds an idle keep-alive connection is held open waiting for its next request. 0 disables keep-alive.',
  }),
  maxRequests: setting<number>({
    name: 'max_requests',
    section: 'Worker processes',
    flags: ['--max-requests'],
    type: intType,
    default: 0,
    validate: atLeast(0),
    doc: 'A worker is replaced (gracefully, its replacement ready first) after serving this many requests. 0 disables.',
  }),
  maxRequestsJitter: setting<number>({
    name: 'max_requests_jitter',
    section: 'Worker processes',
    flags: ['--max-requests-jitter'],
    type: intType,
    default: 0,
    validate: atLeast(0),
    doc: 'A random 0..N added to max_requests per worker so workers do not all restart at once.',
  }),
  chdir: setting<string>({
    name: 'chdir',
    section: 'Server mechanics',
    flags: ['--chdir'],
    type: { ...stringType, meta: 'DIR' },
    default: () => process.cwd(),
    defaultDoc: 'the current directory',
    doc: 'Change to this directory before loading the app; module paths and package names resolve from here.',
  }),
  rawEnv: setting<string[]>({
    name: 'raw_env',
    section: 'Server mechanics',
    flags: ['-e', '--env'],
    type: { ...stringListType, meta: 'KEY=VALUE' },
    repeatable: true,
    default: [],
    validate: (list) => list.map((kv) => (/^[^=]+=/.test(kv) ? undefined : `"${kv}" is not KEY=VALUE`)).find(Boolean),
    doc: 'Set an environment variable in the workers (KEY=VALUE). Repeatable.',
  }),
  pidfile: setting<string | null>({
    name: 'pidfile',
    section: 'Server mechanics',
    flags: ['-p', '--pid'],
    type: { ...optionalStringType, meta: 'FILE' },
    default: null,
    doc: "Write the master's pid here; refuse to start if it names a running process.",
  }),
  user: setting<string | null>({
    name: 'user',
    section: 'Security',
    flags: ['-u', '--user'],
    type: { ...optionalStringType, meta: 'USER' },
    default: null,
    doc: 'Run workers as this user (name or uid), after the master has bound the sockets.',
  }),
  group: setting<string | null>({
    name: 'group',
    section: 'Security',
    flags: ['-g', '--group'],
    type: { ...optionalStringType, meta: 'GROUP' },
    default: null,
    doc: 'Run workers as this group (name or gid).',
  }),
  umask: setting<number>({
    name: 'umask',
    section: 'Security',
    flags: ['-m', '--umask'],
    type: umaskType,
    default: 0,
    defaultDoc: '0',
    doc: 'The file mode mask applied to Unix sockets the master creates (0o007 gives rw for owner and group).',
  }),
  errorlog: setting<string>({
    name: 'errorlog',
    section: 'Logging',
    flags: ['--error-logfile', '--log-file'],
    type: { ...stringType, meta: 'FILE' },
    default: '-',
    doc: "The error log file; '-' is stderr. USR1 reopens it.",
  }),
  loglevel: setting<LogLevel>({
    name: 'loglevel',
    section: 'Logging',
    flags: ['--log-level'],
    type: choiceType(LOG_LEVELS),
    default: 'info',
    doc: 'The granularity of the error log.',
  }),
  accesslog: setting<string | null>({
    name: 'accesslog',
    section: 'Logging',
    flags: ['--access-logfile'],
    type: { ...optionalStringType, meta: 'FILE' },
    default: null,
    doc: "The access log file; '-' is stdout. Off when unset. USR1 reopens it.",
  }),
  accessLogFormat: setting<string>({
    name: 'access_log_format',
    section: 'Logging',
    flags: ['--access-logformat'],
    type: { ...stringType, meta: 'FORMAT' },
    default: DEFAULT_ACCESS_LOG_FORMAT,
    doc: "The access log line, in Gunicorn's atoms (%(h)s %(r)s %(s)s %(b)s %(D)s %({header}i)s …).",
  }),
  forwardedAllowIps: setting<string>({
    name: 'forwarded_allow_ips',
    section: 'Security',
    flags: ['--forwarded-allow-ips'],
    type: { ...stringType, meta: 'ADDRESSES' },
    default: (env) => env.FORWARDED_ALLOW_IPS ?? '127.0.0.1,::1',
    defaultDoc: "$FORWARDED_ALLOW_IPS or '127.0.0.1,::1'",
    validate: (v) => {
      const bad = v.split(',').map((s) => s.trim()).filter(Boolean).find((s) => s !== '*' && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s));
      return bad ? `"${bad}" is not an IP address, a CIDR range or *` : undefined;
    },
    doc: 'Comma-separated peers (addresses, CIDR ranges, or *) trusted to set X-Forwarded-* headers. Unix-socket peers are always trusted.',
  }),
  procName: setting<string | null>({
    name: 'proc_name',
    section: 'Process naming',
    flags: ['-n', '--name'],
    type: { ...optionalStringType, meta: 'STRING' },
    default: null,
    doc: 'A name for process titles: "nodicorn: master [NAME]" and "nodicorn: worker [NAME]".',
  }),
  checkConfig: setting<boolean>({
    name: 'check_config',
    section: 'Config',
    flags: ['--check-config'],
    type: booleanType,
    boolean: true,
    default: false,
    doc: 'Check the settings and load the app, then exit 0 (fine) or 1 (not).',
  }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;
/** The resolved settings every part of nodicorn reads. */
export type Settings = { -readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
