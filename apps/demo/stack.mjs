// `pnpm stack [up|down|status|logs] [-d]` from the root: the demo's stack file through
// `nodicorn stack`, so the root script and the CLI run the very same stack.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../packages/cli/bin/nodicorn.js', import.meta.url));
const file = fileURLToPath(new URL('nodicorn.stack.mjs', import.meta.url));
const args = process.argv.slice(2);
const child = spawn(process.execPath, [bin, 'stack', '--file', file, ...(args.length ? args : ['up'])], { stdio: 'inherit' });
// Ctrl-C reaches the child through the terminal's process group; forwarding TERM/HUP covers the rest.
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => {}); // let the child finish its graceful stop, then exit with its status
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
