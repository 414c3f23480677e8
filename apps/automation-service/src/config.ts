import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, commonEnvFields, loadConfig } from '@cb/config';

export const AutomationEnv = Type.Object({
  ...commonEnvFields,
  AUTOMATION_HTTP_PORT: Type.Integer({
    default: 9104,
    minimum: 0,
    maximum: 65535,
    description:
      'port of /health, /ready and /metrics (0 = any free port); a taken port falls back to a free one',
  }),
  AUTOMATION_HTTP_HOST: Type.String({
    default: '0.0.0.0',
    description: 'interface for /health and /metrics',
  }),
  AUTOMATION_LEASE_TTL_MS: Type.Integer({
    default: 2000,
    minimum: 1000,
    maximum: 300_000,
    description:
      "partition lease lifetime in ms (1000 to 300000): how long a killed worker's timers wait for another",
  }),
  AUTOMATION_ACK_WAIT_MS: Type.Integer({
    default: 750,
    minimum: 250,
    maximum: 60_000,
    description:
      'redelivery delay of an event a worker did not acknowledge (timers and webhook consumers), in ms (250 to 60000; below the lease TTL); a webhook event being retried is kept with a progress signal every third of it',
  }),
  AUTOMATION_FIRE_CONCURRENCY: Type.Integer({
    default: 32,
    minimum: 1,
    maximum: 1024,
    description: 'timer fires in flight at once per partition (1 to 1024)',
  }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Boolean({
    default: false,
    description:
      'deliver webhooks to loopback, private, link-local and metadata addresses too (local receivers, on-premise); refused by default',
  }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({
    default: 1000,
    minimum: 10,
    maximum: 600_000,
    description:
      'delay before the first retry of a failed delivery, in ms (10 to 600000); it doubles at every attempt, up to WEBHOOK_RETRY_MAX_MS',
  }),
  WEBHOOK_RETRY_MAX_MS: Type.Integer({
    default: 600_000,
    minimum: 10,
    maximum: 3_600_000,
    description: 'longest delay between two delivery attempts, in ms (10 to 3600000)',
  }),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({
    default: 8,
    minimum: 1,
    maximum: 100,
    description:
      'attempts of one event before it is dead-lettered and the webhook goes on with the next (1 to 100)',
  }),
  WEBHOOK_FAILING_AFTER: Type.Integer({
    default: 5,
    minimum: 1,
    maximum: 10_000,
    description:
      'consecutive failed attempts after which a webhook is marked failing (logged, counted in metrics) until it succeeds again',
  }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({
    default: 5000,
    minimum: 100,
    maximum: 60_000,
    description:
      'total time one delivery attempt may take (connect, send, response), in ms (100 to 60000)',
  }),
  COMMAND_TIMEOUT_MS: Type.Integer({
    default: 5000,
    minimum: 100,
    maximum: 60_000,
    description: 'how long a fire waits for the command service (100 to 60000 ms)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 300_000,
    description: 'how long graceful shutdown waits for fires in flight (100 to 300000 ms)',
  }),
});
export type AutomationConfig = Static<typeof AutomationEnv>;

export function loadAutomationConfig(env = process.env): Readonly<AutomationConfig> {
  const config = loadConfig(AutomationEnv, env);
  if (config.AUTOMATION_ACK_WAIT_MS >= config.AUTOMATION_LEASE_TTL_MS) {
    throw new ConfigError([
      `AUTOMATION_ACK_WAIT_MS=${config.AUTOMATION_ACK_WAIT_MS} is invalid: it must be below AUTOMATION_LEASE_TTL_MS=${config.AUTOMATION_LEASE_TTL_MS}, so a killed worker's last event is redelivered by the time its partition is taken over`,
    ]);
  }
  if (config.WEBHOOK_RETRY_MAX_MS < config.WEBHOOK_RETRY_BASE_MS) {
    throw new ConfigError([
      `WEBHOOK_RETRY_MAX_MS=${config.WEBHOOK_RETRY_MAX_MS} is invalid: it must be at least WEBHOOK_RETRY_BASE_MS=${config.WEBHOOK_RETRY_BASE_MS}`,
    ]);
  }
  return config;
}
