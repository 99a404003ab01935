export * from './definitions.js';
export { parseArgs, splitCommandLine, knownFlags } from './parse-args.js';
export { defaultSettings, validateSettings, layerSettings } from './resolve.js';
export { settingsHelp, settingsHelpFor, settingsMarkdown } from './help.js';
export { nearest } from '@nodicorn/settings';
export { resolveServeSettings, formatSettings, COMMAND_FLAGS, type ServeInvocation } from './load.js';
export { loadConfigFile, findConfigFile, validateConfigObject, CONFIG_FILE_NAMES, type ConfigFile } from './config-file.js';
export { callHook, HOOK_NAMES, type Hooks, type HookName, type ServerInfo, type WorkerInfo } from './hooks.js';
