import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, commonEnvFields, loadConfig } from '@cb/config';
import { VALID_SHARE } from '@cb/leases';
import { PULL_EXPIRES_MS } from './consumers';

export const ProjectionEnv = Type.Object({
  ...commonEnvFields,
  PROJECTION_HTTP_PORT: Type.Integer({
    default: 9102,
    minimum: 0,
    maximum: 65535,
    description:
      'port of /health, /ready and /metrics (0 = any free port); a taken port falls back to a free one',
  }),
  PROJECTION_HTTP_HOST: Type.String({
    default: '0.0.0.0',
    description: 'interface for /health and /metrics',
  }),
  PROJECTION_BATCH_SIZE: Type.Integer({
    default: 500,
    minimum: 1,
    maximum: 5000,
    description: 'events fetched and applied per batch (1 to 5000)',
  }),
  PROJECTION_LEASE_TTL_MS: Type.Integer({
    default: 10_000,
    minimum: 1000,
    maximum: 300_000,
    description:
      'partition lease lifetime in ms (1000 to 300000): how long a dead worker holds its partitions',
  }),
  PROJECTION_ACK_WAIT_MS: Type.Integer({
    default: 2000,
    minimum: 250,
    maximum: 60_000,
    description:
      'redelivery delay for unacknowledged events in ms (250 to 60000; at most 30 % of the lease TTL minus 1000)',
  }),
  PROJECTION_MAX_ATTEMPTS: Type.Integer({
    default: 5,
    minimum: 1,
    maximum: 100,
    description:
      'failed attempts of an event that fails deterministically before it is dead-lettered (1 to 100); outages never count',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 300_000,
    description: 'how long graceful shutdown waits for in-flight batches (100 to 300000 ms)',
  }),
});
export type ProjectionConfig = Static<typeof ProjectionEnv>;

export function loadProjectionConfig(env = process.env): Readonly<ProjectionConfig> {
  const config = loadConfig(ProjectionEnv, env);
  // A worker stops pulling when its lease stops being valid locally (60 % of the TTL after its
  // last renewal); others may take over at the full TTL. Everything delivered to it until its
  // last pull request expires must be up for redelivery by then, so the next owner receives it
  // first and applies the partition in order: pull expiry + ack wait must fit in 30 % of the TTL.
  const limit =
    Math.floor(config.PROJECTION_LEASE_TTL_MS * (1 - VALID_SHARE - 0.1)) - PULL_EXPIRES_MS;
  if (config.PROJECTION_ACK_WAIT_MS > limit) {
    throw new ConfigError([
      `PROJECTION_ACK_WAIT_MS=${config.PROJECTION_ACK_WAIT_MS} is invalid: with PROJECTION_LEASE_TTL_MS=${config.PROJECTION_LEASE_TTL_MS} it may be at most ${limit} (30 % of the TTL minus the 1000 ms pull expiry)`,
    ]);
  }
  return config;
}
