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
    const timer = setTimeout(() => exit(1), opts.graceMs ?? 5000);
    timer.unref();
    void opts
      .close()
      .catch(() => undefined)
      .finally(() => exit(1));
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
