// The multi-process baseline: one framework's hello world on its own listen() (own-listen.mjs) in each
// of WORKERS node:cluster workers, which share the port through the primary (round-robin on Linux).
// Usage: node cluster-server.mjs KIND PORT WORKERS
import cluster from 'node:cluster';
import { listenOwn } from './own-listen.mjs';

const [kind, port, workers = '2'] = process.argv.slice(2);
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  await listenOwn(kind, Number(port));
}
