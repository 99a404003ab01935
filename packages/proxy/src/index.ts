export { PROXY_ERROR_CODES, PROXY_EXIT, ProxyError, ProxySettingError, type ProxyErrorCode } from './errors.js';
export { PROXY_SETTINGS, PROXY_SETTING_KEYS, type ProxySettings, type ProxySettingKey } from './settings/definitions.js';
export { resolveProxyConfig, PROXY_COMMAND_FLAGS, type ProxyConfig, type Route } from './settings/resolve.js';
export { proxyHelp } from './settings/help.js';
export { BALANCE_METHODS, describeUpstream, upstreamSpec, type BalanceMethod, type HealthCheckSpec, type StickySpec, type UpstreamServerSpec, type UpstreamSpec } from './settings/upstreams.js';
export { ProxyApp, type ProxyAppDeps } from './proxy-app.js';
export { runProxy, type RunningProxy } from './server/run-proxy.js';
export { createLogger, type ProxyLogger } from './logging/error-log.js';
export { AccessLogWriter, formatAccessLine } from './logging/access-log.js';
