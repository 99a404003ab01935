// A worker's entry. Nothing may run before this handler exists: on a Node without --disable-sigusr1
// a USR1 arriving first would open the inspector. The logs are not open yet, so there is nothing to
// reopen; main.ts installs the handler that does.
process.on('SIGUSR1', () => undefined);
// The guard's own entry, not the kernel's index: a worker mutes stdio before it loads anything else.
const { muteBrokenStdio } = await import('@nodicorn/settings/stdio');
muteBrokenStdio();
await import('./main.js');
