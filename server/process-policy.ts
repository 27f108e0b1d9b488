import type { Logger } from 'pino';

/**
 * What the process does with errors nothing else caught (documented in README, "Crash policy"):
 *
 * - unhandledRejection: log it and keep serving. Every state change that matters (a version,
 *   a round outcome) is one SQLite transaction plus an atomic checkpoint, so an async failure
 *   leaves either the old or the new state, never half of one.
 * - uncaughtException: the process may be in an unknown state, so log it as fatal, close
 *   (stop rounds, close sockets and SQLite) within `graceMs`, and exit with code 1. Run the
 *   server under a supervisor (systemd Restart=on-failure, docker --restart): the restart
 *   resumes from the last committed version and reruns the interrupted round.
 *
 * Errors thrown by round listeners never get here: the coordinator catches and logs them.
 *
 * The policy owns both events: listeners installed before it are removed (and put back by the
 * returned uninstall function). The tfjs WASM backend's Emscripten runtime installs listeners that
 * rethrow, which turned every uncaught exception and every unhandled rejection into an immediate
 * exit with code 7, without closing SQLite or the sockets.
 */
export function installCrashPolicy(opts: {
  log: Logger;
  close: () => Promise<void>;
  exit?: (code: number) => void;
  graceMs?: number;
}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  const onRejection = (reason: unknown) => {
    opts.log.error({ err: reason }, 'unhandled promise rejection (policy: log and keep serving)');
  };
  const onException = (err: Error) => {
    opts.log.fatal(
      { err },
      'uncaught exception (policy: close and exit 1; a supervisor restart resumes from the last committed version)',
    );
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => {
      opts.log.fatal('close did not finish in time; exiting anyway');
      exit(1);
    }, opts.graceMs ?? 5000);
    timer.unref();
    void opts.close().then(
      () => {
        opts.log.info('closed after the uncaught exception; exiting with code 1');
        exit(1);
      },
      (err: unknown) => {
        opts.log.fatal({ err }, 'close failed after the uncaught exception; exiting');
        exit(1);
      },
    );
  };
  const previous = {
    unhandledRejection: process.listeners('unhandledRejection'),
    uncaughtException: process.listeners('uncaughtException'),
  };
  process.removeAllListeners('unhandledRejection');
  process.removeAllListeners('uncaughtException');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    for (const l of previous.unhandledRejection) process.on('unhandledRejection', l);
    for (const l of previous.uncaughtException) process.on('uncaughtException', l);
  };
}
