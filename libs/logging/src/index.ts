export { createLogger, REDACTED_PATHS, type Logger, type LoggerSettings } from './logger';
