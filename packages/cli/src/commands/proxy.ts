import { PROXY_EXIT, ProxyError, ProxySettingError, createLogger, proxyHelp, resolveProxyConfig, runProxy } from '@nodicorn/proxy';
import { NodicornError } from '@nodicorn/server';
import { masterHelp, splitMasterArgs } from '../proxy/master-flags.js';
import { runUnderMaster, workerCount } from '../proxy/under-master.js';

const USAGE = `Usage: nodicorn proxy [OPTIONS]

Run the reverse proxy that stands where nginx stands in front of Gunicorn: http/https listeners,
static files, forwarding to nodicorn servers over unix: or TCP, WebSocket upgrades, access log.
  nodicorn proxy --listen https://127.0.0.1:8443 --upstream unix:/run/app.sock --static /assets=dist/assets
  nodicorn proxy --config proxy.config.json
  nodicorn proxy --workers 4 --pid run/proxy.pid --listen https://0.0.0.0:443 --upstream unix:/run/app.sock

--workers N (default: one per CPU core) runs N proxy processes under nodicorn's master, sharing every
--listen socket: the master's signals (TERM graceful stop, INT/QUIT fast stop, HUP reload config,
routes and certificates by replacing each worker with zero failed requests, TTIN/TTOU add/remove a
worker, USR1 reopen logs), --pid, --name and nodicorn status/ctl. Listener changes need a restart.
--workers 1 is one process with no master; there TERM/INT stop gracefully, HUP reloads in place and
USR1 reopens the access log (as nginx, for logrotate).
`;

/** `nodicorn proxy`: one standalone process, or N workers under a master. Resolves with the exit code once it has stopped. */
export async function run(argv: readonly string[]): Promise<number> {
  const log = createLogger();
  // Help needs no valid configuration: it is what a user reads to write one.
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n${proxyHelp()}\n\n${masterHelp()}\n`);
    return PROXY_EXIT.OK;
  }
  try {
    const { proxyArgv, master, given } = splitMasterArgs(argv);
    const config = await resolveProxyConfig(proxyArgv);
    if (workerCount(config) > 1) return await runUnderMaster(proxyArgv, config, master, log);
    if (given.length > 0) {
      throw new ProxySettingError(`${given.join(', ')} set${given.length === 1 ? 's' : ''} up the master of --workers 2 or more; --workers 1 runs one process with no master. Drop ${given.length === 1 ? 'it' : 'them'} or raise --workers.`);
    }
    // One standalone process has no master to respawn it: a bug hit by one request is logged with
    // its stack and that request's sockets are lost, but every other connection keeps its proxy.
    process.on('uncaughtException', (err) => log.error(`Uncaught error (please report it): ${err.stack ?? String(err)}`));
    const proxy = await runProxy(config, log);
    log.info(`Ready: nodicorn proxy (pid ${process.pid})`);
    return await new Promise<number>((resolve) => {
      // Signal handlers only enqueue; one chain runs them in order, so a HUP during a reload waits.
      let queue = Promise.resolve();
      const enqueue = (job: () => Promise<void>) => {
        queue = queue.then(job).catch((err: unknown) => log.error(err instanceof ProxyError ? err.message : String(err)));
      };
      const stop = (signal: string) => () =>
        enqueue(async () => {
          log.info(`Handling signal: ${signal}; finishing in-flight requests`);
          await proxy.shutdown();
          log.info('Shutting down: proxy stopped');
          resolve(PROXY_EXIT.OK);
        });
      process.on('SIGUSR1', () => proxy.reopenLogs());
      process.on('SIGTERM', stop('term'));
      process.on('SIGINT', stop('int'));
      process.on('SIGHUP', () =>
        enqueue(async () => {
          log.info('Handling signal: hup');
          try {
            await proxy.reload(await resolveProxyConfig(proxyArgv, config.cwd));
          } catch (err) {
            log.error(`Reload failed, keeping the running configuration: ${err instanceof Error ? err.message : String(err)}`);
          }
        }),
      );
    });
  } catch (err) {
    if (err instanceof ProxyError || err instanceof NodicornError) {
      process.stderr.write(`nodicorn proxy: error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
