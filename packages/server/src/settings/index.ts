export * from './definitions.js';
export { parseArgs, splitCommandLine, knownFlags } from './parse-args.js';
export { defaultSettings, validateSettings, layerSettings } from './resolve.js';
export { settingsHelp, settingsMarkdown } from './help.js';
export { nearest } from './nearest.js';
export { resolveServeSettings, COMMAND_FLAGS, type ServeInvocation } from './load.js';
