import { ConfigError } from '@cb/config';
import { createLogger, type Logger } from '@cb/logging';

/**
 * Parse a service's configuration once at start-up. A bad value exits the process with status 2
 * and a message naming every bad variable and what it expects.
 */
export function bootstrap<C extends { LOG_LEVEL: string }>(
  service: string,
  load: () => C,
): { config: C; logger: Logger } {
  try {
    const config = load();
    return { config, logger: createLogger({ service, level: config.LOG_LEVEL }) };
  } catch (err) {
    const logger = createLogger({ service });
    if (err instanceof ConfigError) {
      logger.fatal({ issues: err.issues }, err.message);
      process.exit(2);
    }
    logger.fatal({ err }, 'could not read the configuration');
    process.exit(2);
  }
}
