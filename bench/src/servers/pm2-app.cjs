// PM2's cluster mode require()s its script; this loads the ESM baseline under it. PORT comes from env.
import('./raw.mjs');
