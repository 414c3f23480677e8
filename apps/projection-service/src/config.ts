import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, commonEnvFields, loadConfig } from '@cb/config';
import { RENEW_SHARE } from '@cb/leases';
import { BACKOFF_FACTORS } from './consumers';

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
    default: 2000,
    minimum: 1000,
    maximum: 300_000,
    description:
      'partition lease lifetime in ms (1000 to 300000): how long a killed worker holds its partitions',
  }),
  PROJECTION_ACK_WAIT_MS: Type.Integer({
    default: 750,
    minimum: 250,
    maximum: 60_000,
    description:
      'redelivery delay for unacknowledged events in ms (250 to 60000; at most 37.5 % of the lease TTL)',
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

/**
 * The longest ack wait that keeps a takeover from waiting on redeliveries. A killed worker renewed
 * its leases at most RENEW_SHARE of the TTL before it died, so its partitions are taken over at
 * least (1 − RENEW_SHARE) of the TTL after its last pull and keep-alive (the server drops the
 * pull requests of a closed connection). What it held is up for redelivery at most the longest
 * backoff step later; when that fits, with 10 % of the TTL to spare, the next owner receives
 * those events first and applies at once. Order never depends on it: a batch with an unapplied
 * earlier event of its workflow waits for it (a worker that lapsed but lives may still be
 * delivered events until its last pull expires, and the next owner then waits for them).
 */
export function maxAckWaitMs(leaseTtlMs: number): number {
  return Math.floor((leaseTtlMs * (1 - RENEW_SHARE - 0.1)) / Math.max(...BACKOFF_FACTORS));
}

export function loadProjectionConfig(env = process.env): Readonly<ProjectionConfig> {
  const config = loadConfig(ProjectionEnv, env);
  const limit = maxAckWaitMs(config.PROJECTION_LEASE_TTL_MS);
  if (config.PROJECTION_ACK_WAIT_MS > limit) {
    throw new ConfigError([
      `PROJECTION_ACK_WAIT_MS=${config.PROJECTION_ACK_WAIT_MS} is invalid: with PROJECTION_LEASE_TTL_MS=${config.PROJECTION_LEASE_TTL_MS} it may be at most ${limit} (37.5 % of the TTL: its longest redelivery back-off, twice the ack wait, must fit in 75 % of the TTL)`,
    ]);
  }
  return config;
}
