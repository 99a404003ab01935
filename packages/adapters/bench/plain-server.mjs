// The baseline: one framework's hello world on its own server in one process (see own-listen.mjs).
// Usage: node plain-server.mjs KIND — prints "listening PORT".
import { listenOwn } from './own-listen.mjs';

console.log(`listening ${await listenOwn(process.argv[2])}`);
