import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerSettings {
  /** Service name, bound to every line as `service`. */
  service: string;
  level?: string;
  /** Where lines go (tests pass a stream); stdout by default. */
  destination?: DestinationStream;
}

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  'token',
  'creds',
  '*.password',
  '*.token',
  '*.pass',
  '*.authenticator',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

/** The one root logger of a process. Libraries take children bound with `{ component }`. */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
