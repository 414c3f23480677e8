import { Type, type Static } from '@sinclair/typebox';
import { commonEnvFields, guardEnvFields, loadConfig } from '@cb/config';

export const CommandServiceEnv = Type.Object({
  ...commonEnvFields,
  ...guardEnvFields,
  COMMAND_HTTP_PORT: Type.Integer({
    default: 9101,
    minimum: 0,
    maximum: 65535,
    description:
      'port of /health, /ready and /metrics (0 = any free port); a taken port falls back to a free one',
  }),
  COMMAND_HTTP_HOST: Type.String({
    default: '0.0.0.0',
    description: 'interface for /health and /metrics',
  }),
  COMMAND_MAX_RETRIES: Type.Integer({
    default: 5,
    minimum: 0,
    maximum: 50,
    description: 'retries of a write without If-Match that lost a concurrent race (0 to 50)',
  }),
  COMMAND_LEASE_TTL_MS: Type.Integer({
    default: 3000,
    minimum: 1000,
    maximum: 120_000,
    description:
      "lease of a partition's commands: how long a dead instance's partitions wait before another takes them (1000 to 120000 ms)",
  }),
  COMMAND_CONCURRENCY: Type.Integer({
    default: 256,
    minimum: 1,
    maximum: 10_000,
    description: 'commands processed at once by one instance (1 to 10000)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 300_000,
    description: 'how long graceful shutdown waits for in-flight work (100 to 300000 ms)',
  }),
});
export type CommandServiceConfig = Static<typeof CommandServiceEnv>;

export function loadCommandServiceConfig(env = process.env): Readonly<CommandServiceConfig> {
  return loadConfig(CommandServiceEnv, env);
}
