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
