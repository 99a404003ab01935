#!/usr/bin/env node
// Committed shim so pnpm can link the `nodicorn` bin before the first build.
// USR1 means "reopen your logs" to every nodicorn process (logrotate sends it); without a handler Node
// would open its inspector, which any local user could then drive. So a handler exists before any
// other code is loaded (a dynamic import: a static one would be evaluated first); the real handlers
// (the master's, the proxy's) are added beside it later.
process.on('SIGUSR1', () => undefined);
await import('../dist/bin.js');
