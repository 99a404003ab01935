// Baseline: node:cluster. `node cluster.mjs PORT WORKERS`; NODE_CLUSTER_SCHED_POLICY=rr|none picks
// round-robin (the master accepts) or SCHED_NONE (workers accept on the shared socket).
import cluster from 'node:cluster';
import http from 'node:http';
import { handler } from './routes.mjs';

const port = Number(process.argv[2]);
const workers = Number(process.argv[3] ?? 2);
if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  http.createServer(handler).listen(port, '127.0.0.1');
}
