// `pnpm stack up`, until `nodicorn stack` lands: the demo app under nodicorn with two workers.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [verb = 'up'] = process.argv.slice(2);
if (verb !== 'up') {
  console.error(`stack: only "up" is available yet (got "${verb}")`);
  process.exit(2);
}
const port = process.env.PORT ?? '8000';
const bin = fileURLToPath(new URL('../../packages/cli/bin/nodicorn.js', import.meta.url));
const args = ['-w', '2', '-b', `127.0.0.1:${port}`, '-t', '5', '--access-logfile', '-', '--chdir', fileURLToPath(new URL('.', import.meta.url)), 'src/hello.mjs:app'];
console.log(`nodicorn ${args.join(' ')}\n  try: curl http://127.0.0.1:${port}/   (Ctrl-C stops it)\n`);
const child = spawn(process.execPath, [bin, ...args], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 0));
