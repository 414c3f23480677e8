import { hostname } from 'node:os';
import type { CommonEnv } from './common-env';

/** NATS connection settings from the common variables, named `service@host/pid`. */
export function natsSettingsOf(config: CommonEnv, service: string) {
  return {
    url: config.NATS_URL,
    name: `${service}@${hostname()}/${process.pid}`,
    ...(config.NATS_USER !== undefined
      ? { user: config.NATS_USER, password: config.NATS_PASSWORD as string }
      : {}),
    ...(config.NATS_TOKEN !== undefined ? { token: config.NATS_TOKEN } : {}),
    ...(config.NATS_CREDS !== undefined ? { credsFile: config.NATS_CREDS } : {}),
    ...(config.NATS_INBOX_PREFIX !== undefined ? { inboxPrefix: config.NATS_INBOX_PREFIX } : {}),
    ...(config.NATS_TLS_CA !== undefined ||
    config.NATS_TLS_CERT !== undefined ||
    config.NATS_TLS_KEY !== undefined
      ? {
          tls: {
            ...(config.NATS_TLS_CA !== undefined ? { caFile: config.NATS_TLS_CA } : {}),
            ...(config.NATS_TLS_CERT !== undefined ? { certFile: config.NATS_TLS_CERT } : {}),
            ...(config.NATS_TLS_KEY !== undefined ? { keyFile: config.NATS_TLS_KEY } : {}),
          },
        }
      : {}),
  };
}

/** Naming options from the common variables. */
export function namingOptionsOf(config: CommonEnv) {
  return { prefix: config.CB_PREFIX, stream: config.CB_STREAM, partitions: config.CB_PARTITIONS };
}

/** Stream settings from the common variables. */
export function streamSettingsOf(config: CommonEnv) {
  return { replicas: config.CB_STREAM_REPLICAS, duplicateWindowMs: config.CB_DUPLICATE_WINDOW_MS };
}
