import { atLeast, booleanType, choiceType, intType, listType, optionalStringType, positive, range, secondsType, sizeType, stringType, type SettingSpec } from '@nodicorn/settings';
import { protocolsType, type HttpProtocol } from './protocols.js';

/** A proxy setting: the kernel's spec; its config key is its name, and --help has no sections. */
export type ProxySettingSpec<T> = SettingSpec<T>;

export const TLS_VERIFY_CLIENT = ['off', 'optional', 'on'] as const;
export type TlsVerifyClient = (typeof TLS_VERIFY_CLIENT)[number];
export const TLS_MIN_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

const setting = <T>(spec: ProxySettingSpec<T>): ProxySettingSpec<T> => spec;

/**
 * Every `nodicorn proxy` setting, declared once (Gunicorn's config.py model): the flag parser, the
 * config-file loader, --help and the README table all derive from this object. Keys are the config
 * file's camelCase names; the nginx directive each one mirrors is named in its doc.
 */
export const PROXY_SETTINGS = {
  config: setting<string | null>({
    flags: ['-c', '--config'],
    type: { ...optionalStringType, meta: 'FILE' },
    default: null,
    doc: 'A proxy.config.json or .mjs file: { listen, upstreams: { NAME: [..] | { servers, balance, healthCheck, sticky } }, routes: [{ prefix, upstream, limitReq, limitConn, allow, deny, auth }], static: [..], hosts: { NAMES: { routes, static, tlsCert, tlsKey, default } } } plus any setting below by its config key.',
  }),
  listen: setting<string[]>({
    flags: ['-l', '--listen'],
    type: { ...listType, meta: 'URL' },
    repeatable: true,
    default: ['http://127.0.0.1:8080'],
    doc: 'A listener, http://HOST:PORT or https://HOST:PORT (port 0 picks a free one). Repeat for several.',
  }),
  upstream: setting<string[]>({
    flags: ['-u', '--upstream'],
    type: { ...listType, meta: 'ADDRESS' },
    repeatable: true,
    default: [],
    doc: 'A server of the "default" upstream, unix:PATH or HOST:PORT; repeat for a pool. Routes / to it unless a config file routes / elsewhere.',
  }),
  static: setting<string[]>({
    flags: ['-s', '--static'],
    type: { ...listType, meta: '/PREFIX=DIR' },
    repeatable: true,
    default: [],
    doc: 'Serve files from DIR under /PREFIX (Range, ETag, precompressed .br/.gz, index.html; dotfiles and traversal refused).',
  }),
  tlsCert: setting<string | null>({
    flags: ['--tls-cert'],
    type: { ...optionalStringType, meta: 'PATH' },
    default: null,
    doc: 'PEM certificate (chain) for https listeners; without it a self-signed one is generated into --state-dir.',
  }),
  tlsKey: setting<string | null>({
    flags: ['--tls-key'],
    type: { ...optionalStringType, meta: 'PATH' },
    default: null,
    doc: 'PEM private key for --tls-cert.',
  }),
  tlsCaCerts: setting<string | null>({
    flags: ['--tls-ca-certs'],
    type: { ...optionalStringType, meta: 'FILE' },
    default: null,
    doc: 'PEM CA certificates that client certificates are verified against (nginx ssl_client_certificate); needed by --tls-verify-client.',
  }),
  tlsVerifyClient: setting<TlsVerifyClient>({
    flags: ['--tls-verify-client'],
    type: choiceType(TLS_VERIFY_CLIENT),
    default: 'off',
    doc: 'Client certificates (nginx ssl_verify_client): on refuses the TLS handshake without a valid one; optional asks for one, answers 400 to a certificate that fails (as nginx), and forwards X-SSL-Client-Verify (SUCCESS or NONE) and X-SSL-Client-S-DN upstream; client-sent copies are always dropped.',
  }),
  tlsCiphers: setting<string | null>({
    flags: ['--tls-ciphers'],
    type: { ...optionalStringType, meta: 'CIPHERS' },
    default: null,
    doc: "OpenSSL cipher list for TLS 1.2 (nginx ssl_ciphers), e.g. ECDHE+AESGCM:ECDHE+CHACHA20; default Node's own list. TLS 1.3 suites are not affected.",
  }),
  tlsMinVersion: setting<TlsMinVersion>({
    flags: ['--tls-min-version'],
    type: choiceType(TLS_MIN_VERSIONS),
    default: 'TLSv1.2',
    doc: 'Oldest TLS version accepted (nginx ssl_protocols): TLSv1.2 or TLSv1.3.',
  }),
  stateDir: setting<string>({
    flags: ['--state-dir'],
    type: { ...stringType, meta: 'DIR' },
    default: '.nodicorn',
    doc: 'Where the generated certificate lives, relative to the working directory.',
  }),
  httpProtocols: setting<HttpProtocol[]>({
    flags: ['--http-protocols'],
    type: protocolsType,
    default: ['h2', 'http/1.1'],
    doc: 'What https listeners offer by ALPN (nginx listen ... ssl with http2 on): h2,http/1.1, or http/1.1 alone to turn HTTP/2 off. Upstreams are always spoken to in HTTP/1.1.',
  }),
  http2MaxConcurrentStreams: setting<number>({
    flags: ['--http2-max-concurrent-streams'],
    type: intType,
    default: 128,
    validate: positive,
    doc: 'Streams one HTTP/2 connection may have open at once (nginx http2_max_concurrent_streams).',
  }),
  http2MaxResets: setting<number>({
    flags: ['--http2-max-resets'],
    type: intType,
    default: 200,
    validate: positive,
    doc: 'Streams a client may cancel (RST_STREAM) within 10 seconds before its HTTP/2 connection is closed with GOAWAY: the rapid-reset attack (CVE-2023-44487).',
  }),
  serverName: setting<string[]>({
    flags: ['--server-name'],
    type: { ...listType, meta: 'HOST' },
    repeatable: true,
    default: ['localhost'],
    doc: 'Host names this proxy answers for (nginx server_name); redirects are built from these, never from a client Host.',
  }),
  redirectHttps: setting<boolean>({
    flags: ['--redirect-https'],
    type: booleanType,
    boolean: true,
    default: false,
    doc: 'Answer plain-HTTP requests with 308 to the https listener.',
  }),
  hsts: setting<boolean>({
    flags: ['--hsts'],
    type: booleanType,
    boolean: true,
    default: false,
    doc: 'Send Strict-Transport-Security (1 year) on https responses; never for localhost or loopback addresses.',
  }),
  trustedProxies: setting<string[]>({
    flags: ['--trusted-proxies'],
    type: { ...listType, meta: 'CIDR' },
    repeatable: true,
    default: [],
    doc: 'Peers (addresses or CIDR ranges) whose X-Forwarded-For is kept and appended to (nginx set_real_ip_from); any other peer\'s is replaced.',
  }),
  maxBody: setting<number>({
    flags: ['--max-body'],
    type: sizeType,
    default: 1024 ** 2,
    doc: 'Largest request body; larger gets 413 (nginx client_max_body_size). 0 means no limit. [default 1m]',
  }),
  requestBuffering: setting<boolean>({
    flags: ['--request-buffering'],
    type: booleanType,
    default: true,
    doc: 'Read the whole request body before forwarding (nginx proxy_request_buffering), so a slow client never holds an app worker.',
  }),
  proxyBuffering: setting<boolean>({
    flags: ['--proxy-buffering'],
    type: booleanType,
    default: true,
    doc: 'Read upstream responses as fast as they come, into memory then a temp file (nginx proxy_buffering); a response can opt out with X-Accel-Buffering: no, and text/event-stream always streams.',
  }),
  bufferSize: setting<number>({
    flags: ['--buffer-size'],
    type: sizeType,
    default: 256 * 1024,
    validate: positive,
    doc: 'Memory per request or response body before buffering spills to a temp file. [default 256k]',
  }),
  maxTempFileSize: setting<number>({
    flags: ['--max-temp-file-size'],
    type: sizeType,
    default: 1024 ** 3,
    doc: 'Largest temp file one response may spill to; past it the upstream is read only as fast as the client takes (nginx proxy_max_temp_file_size). [default 1g]',
  }),
  gzip: setting<boolean>({
    flags: ['--gzip'],
    type: booleanType,
    default: false,
    doc: "Compress responses on the fly (nginx gzip): br, zstd where this Node has it, or gzip, by the client's Accept-Encoding, for --gzip-types from --gzip-min-length up; proxied responses and static files without a .br/.gz sibling. Off as in nginx: it costs proxy CPU on every response.",
  }),
  gzipTypes: setting<string[]>({
    flags: ['--gzip-types'],
    type: { ...listType, meta: 'MIME' },
    repeatable: true,
    default: ['text/*', 'application/json', 'application/javascript', 'application/xml', 'application/wasm', 'application/manifest+json', 'application/ld+json', 'application/rss+xml', 'application/atom+xml', 'image/svg+xml', 'image/x-icon', 'font/ttf', 'font/otf'],
    validate: (types) => {
      const bad = types.flatMap((t) => t.split(/[\s,]+/)).filter((t) => t && t !== '*' && !/^[\w.+-]+\/([\w.+-]+|\*)$/.test(t));
      return bad.length ? `expected media types such as text/html, text/* or *, got ${bad.map((t) => JSON.stringify(t)).join(', ')}` : undefined;
    },
    doc: 'Media types compressed (nginx gzip_types); type/* and * match many, parameters are ignored. text/event-stream never is. Repeat, or give several separated by spaces.',
  }),
  gzipMinLength: setting<number>({
    flags: ['--gzip-min-length'],
    type: sizeType,
    default: 256,
    doc: "Responses whose Content-Length is below this stay uncompressed (nginx gzip_min_length; nginx's 20 is raised because under ~256 bytes the encoding's framing eats the saving). Bodies of unknown length are always compressed.",
  }),
  gzipCompLevel: setting<number>({
    flags: ['--gzip-comp-level'],
    type: intType,
    default: 1,
    validate: range(1, 9),
    doc: 'gzip level, 1-9 (nginx gzip_comp_level, same default: most of the saving for the least CPU).',
  }),
  brotliCompLevel: setting<number>({
    flags: ['--brotli-comp-level'],
    type: intType,
    default: 4,
    validate: range(0, 11),
    doc: "Brotli quality, 0-11 (ngx_brotli brotli_comp_level, whose default is 6): 4 is the usual on-the-fly level, denser than gzip -6 for about its CPU; 11 is for precompressing.",
  }),
  zstdCompLevel: setting<number>({
    flags: ['--zstd-comp-level'],
    type: intType,
    default: 3,
    validate: range(1, 19),
    doc: "zstd level, 1-19 (zstd's own default), used where this Node has zstd (22.15 and later).",
  }),
  connectTimeout: setting<number>({
    flags: ['--connect-timeout'],
    type: secondsType,
    default: 10,
    validate: positive,
    doc: 'Seconds to connect to an upstream server (nginx proxy_connect_timeout).',
  }),
  upstreamTimeout: setting<number>({
    flags: ['--upstream-timeout'],
    type: secondsType,
    default: 60,
    validate: positive,
    doc: 'Seconds an upstream may stay silent while answering before the client gets 504 (nginx proxy_read_timeout).',
  }),
  maxFails: setting<number>({
    flags: ['--max-fails'],
    type: intType,
    default: 1,
    validate: atLeast(0),
    doc: 'Failed attempts within --fail-timeout that mark an upstream server down for --fail-timeout (nginx max_fails); 0 never marks it down.',
  }),
  failTimeout: setting<number>({
    flags: ['--fail-timeout'],
    type: secondsType,
    default: 10,
    validate: atLeast(0),
    doc: 'Seconds of the max_fails window and of the pause after it (nginx fail_timeout).',
  }),
  upstreamConnections: setting<number>({
    flags: ['--upstream-connections'],
    type: intType,
    default: 128,
    validate: positive,
    doc: 'Most keep-alive connections to one upstream server.',
  }),
  websocketTimeout: setting<number>({
    flags: ['--websocket-timeout'],
    type: secondsType,
    default: 600,
    validate: positive,
    doc: 'Seconds a forwarded WebSocket may be idle in both directions before it is closed.',
  }),
  clientHeaderTimeout: setting<number>({
    flags: ['--client-header-timeout'],
    type: secondsType,
    default: 10,
    validate: positive,
    doc: 'Seconds a client has to send its request headers (nginx client_header_timeout), so slow senders cannot hold connections.',
  }),
  clientBodyTimeout: setting<number>({
    flags: ['--client-body-timeout'],
    type: secondsType,
    default: 60,
    validate: positive,
    doc: 'Seconds a client may pause while sending a body before the connection is closed (nginx client_body_timeout).',
  }),
  keepaliveTimeout: setting<number>({
    flags: ['--keepalive-timeout'],
    type: secondsType,
    default: 75,
    validate: atLeast(0),
    doc: 'Seconds an idle client keep-alive connection stays open (nginx keepalive_timeout).',
  }),
  maxHeaders: setting<number>({
    flags: ['--max-headers'],
    type: intType,
    default: 100,
    validate: positive,
    doc: 'Most request header fields; more get 431.',
  }),
  accessLog: setting<string>({
    flags: ['--access-log'],
    type: { ...stringType, meta: 'FILE|-|off' },
    default: '-',
    doc: "Access log in nginx's combined format plus timings and upstream; - is stdout, off disables it.",
  }),
  workers: setting<number>({
    flags: ['-w', '--workers'],
    type: intType,
    default: 0,
    validate: (v) => (v >= 0 ? undefined : `must be 0 (one per CPU core) or more, got ${v}`),
    doc: "Proxy processes (nginx worker_processes): 0 is one per CPU core (nginx's auto); 1 is one process with no master; more run under nodicorn's master, sharing every --listen socket, with its signals, --pid, status and zero-downtime HUP.",
  }),
  gracefulTimeout: setting<number>({
    flags: ['--graceful-timeout'],
    type: secondsType,
    default: 30,
    validate: atLeast(0),
    doc: 'Seconds SIGTERM waits for in-flight requests before closing what is left.',
  }),
} as const;

type SpecValue<S> = S extends ProxySettingSpec<infer T> ? T : never;
export type ProxySettings = { -readonly [K in keyof typeof PROXY_SETTINGS]: SpecValue<(typeof PROXY_SETTINGS)[K]> };
export type ProxySettingKey = keyof ProxySettings;
export const PROXY_SETTING_KEYS = Object.keys(PROXY_SETTINGS) as ProxySettingKey[];
