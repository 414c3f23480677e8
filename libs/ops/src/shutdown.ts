import type { Logger } from '@cb/logging';

/**
 * Run `stop` once on SIGINT/SIGTERM, then exit. If stopping takes longer than `timeoutMs`, exit
 * anyway (non-zero) so an orchestrator never waits forever. A second signal exits at once.
 */
export function onShutdownSignal(
  logger: Logger,
  timeoutMs: number,
  stop: () => Promise<void>,
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Log a start-up failure in one readable line and exit non-zero. */
export function exitOnStartupError(logger: Logger, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  logger.fatal({ err }, `failed to start: ${message}`);
  process.exit(1);
}
