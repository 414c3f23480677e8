import type { KV } from '@nats-io/kv';
import { Authenticator, FailureSlowdown, type KeyStore, type RateLimiter } from '@cb/auth';
import { createLogger } from '@cb/logging';
import type { EventStore } from '@cb/nats';
import { Naming } from '@cb/subjects';
import { buildApp, type App, type AppDeps } from '../app';
import type { CommandClient } from '../command-client';
import type { GuardCompiler } from '../definitions/check-definition';
import { LiveEvents } from '../read/live-events';
import type { LiveHubs } from '../read/live-hubs';
import type { WebhookReads } from '../read/webhooks';
import type { Reads } from '../read/reads';

/** The root credential of `appWithoutNats` (send it as `Authorization: Bearer …`). */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';
/** The headers of a request as `TEST_ADMIN_KEY`. */
export const TEST_ADMIN_HEADERS: Readonly<{ authorization: string }> = Object.freeze({
  authorization: `Bearer ${TEST_ADMIN_KEY}`,
});

/**
 * The gateway without NATS, for tests of what needs none (documentation, metrics, validation):
 * the dependencies a test does not override are empty objects that must never be called, except
 * live events, which the app ends on close and counts for /metrics: no streams, no hubs.
 * Authentication is on as everywhere: the real authenticator with `TEST_ADMIN_KEY` as the root
 * credential (which it checks in memory; a stored key would need the buckets).
 */
export function appWithoutNats(overrides: Partial<AppDeps> = {}): App {
  const never = {} as unknown;
  const logger = createLogger({ service: 'query-gateway-test', level: 'silent' });
  const naming = new Naming();
  return buildApp({
    logger,
    auth: {
      authenticator: new Authenticator({
        buckets: { keys: never as KV, sessions: never as KV },
        naming,
        logger,
        adminKey: TEST_ADMIN_KEY,
        sessionTtlSeconds: 3600,
      }),
      limiter: never as RateLimiter,
      slowdown: new FailureSlowdown(),
    },
    commands: never as CommandClient,
    reads: never as Reads,
    guards: never as GuardCompiler,
    webhooks: never as WebhookReads,
    live: new LiveEvents({ size: 0 } as LiveHubs, { maxConnections: 1, clientBufferBytes: 65_536 }),
    store: never as EventStore,
    naming,
    keys: never as KeyStore,
    projectionWaitMs: 1000,
    maxBodyBytes: 1024 * 1024,
    bulkFireConcurrency: 4,
    idempotencyWindowMs: 600_000,
    readiness: async () => ({ nats: true }),
    ...overrides,
  });
}
