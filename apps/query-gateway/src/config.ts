import { Type, type Static } from '@sinclair/typebox';
import { authEnvFields, commonEnvFields, guardEnvFields, loadConfig } from '@cb/config';

export const GatewayEnv = Type.Object({
  ...commonEnvFields,
  ...guardEnvFields,
  ...authEnvFields,
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
  // Twice the 5 s bound on a projection worker's takeover of a killed worker's partitions
  // (PROJECTION_LEASE_TTL_MS, 2 s, plus starting on them): a read waits through a takeover.
  MIN_SEQ_WAIT_MS: Type.Integer({
    default: 10_000,
    minimum: 0,
    maximum: 60_000,
    description:
      'how long a read with minSeq waits for the projections before 503 PROJECTION_LAGGING (0 to 60000 ms; long enough to wait through a takeover)',
  }),
  SCAN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 120_000,
    description: 'bound on one key-range scan behind a list (100 to 120000 ms)',
  }),
  SSE_HEARTBEAT_MS: Type.Integer({
    default: 15_000,
    minimum: 1000,
    maximum: 300_000,
    description: 'heartbeat comment interval on live event streams (1000 to 300000 ms)',
  }),
  SSE_MAX_CONNECTIONS: Type.Integer({
    default: 1000,
    minimum: 1,
    maximum: 100_000,
    description: 'live event streams served at once; more get 429 (1 to 100000)',
  }),
  SSE_CLIENT_BUFFER_BYTES: Type.Integer({
    default: 1_048_576,
    minimum: 65_536,
    maximum: 67_108_864,
    description:
      'bytes a live event client may leave unsent (written to its socket but not taken by the kernel, plus queued events) before it is cut off with a final cutoff event (65536 to 67108864)',
  }),
  BULK_FIRE_CONCURRENCY: Type.Integer({
    default: 16,
    minimum: 1,
    maximum: 256,
    description: 'fires in flight at once for one bulk-fire request (1 to 256)',
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    default: 10_000,
    minimum: 100,
    maximum: 300_000,
    description: 'how long graceful shutdown waits for in-flight requests (100 to 300000 ms)',
  }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: Type.Boolean({
    default: false,
    description:
      'register webhooks whose URL is or resolves to a loopback, private, link-local or metadata address (local receivers, on-premise); refused by default (set the same on the automation service)',
  }),
  GRAPHQL_INTROSPECTION: Type.Boolean({
    default: true,
    description:
      'answer GraphQL introspection (`__schema`, `__type`) on /graphql; false refuses it (GraphiQL then has no schema)',
  }),
  GRAPHQL_MAX_DEPTH: Type.Integer({
    default: 10,
    minimum: 2,
    maximum: 50,
    description:
      'deepest selection a GraphQL operation may nest (2 to 50; introspection: 15); deeper is QUERY_TOO_DEEP',
  }),
  GRAPHQL_MAX_COST: Type.Integer({
    default: 20_000,
    minimum: 100,
    maximum: 1_000_000,
    description:
      'highest estimated cost of a GraphQL operation (each field 1, list selections times `first`; 100 to 1000000); more is QUERY_TOO_COMPLEX',
  }),
  CONSOLE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'directory of the built console served at /console (default: apps/console/dist of the repository; relative to the working directory)',
    }),
  ),
});
export type GatewayConfig = Static<typeof GatewayEnv>;

export function loadGatewayConfig(env = process.env): Readonly<GatewayConfig> {
  return loadConfig(GatewayEnv, env);
}
