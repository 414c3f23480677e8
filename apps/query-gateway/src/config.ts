import { Type, type Static } from '@sinclair/typebox';
import { commonEnvFields, loadConfig } from '@cb/config';

export const GatewayEnv = Type.Object({
  ...commonEnvFields,
  GATEWAY_PORT: Type.Integer({
    default: 3000,
    minimum: 0,
    maximum: 65535,
    description: 'HTTP port (0 to 65535)',
  }),
  GATEWAY_HOST: Type.String({ default: '0.0.0.0', description: 'interface to listen on' }),
  MAX_BODY_BYTES: Type.Integer({
    default: 262_144,
    minimum: 1024,
    maximum: 524_288,
    description:
      'largest request body in bytes (1024 to 524288; events must fit in a NATS message)',
  }),
  COMMAND_TIMEOUT_MS: Type.Integer({
    default: 5000,
    minimum: 100,
    maximum: 120_000,
    description: 'how long to wait for the command service (100 to 120000 ms)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 300_000,
    description: 'how long graceful shutdown waits for in-flight requests (100 to 300000 ms)',
  }),
});
export type GatewayConfig = Static<typeof GatewayEnv>;

export function loadGatewayConfig(env = process.env): Readonly<GatewayConfig> {
  return loadConfig(GatewayEnv, env);
}
