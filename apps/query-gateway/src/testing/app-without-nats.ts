import { createLogger } from '@cb/logging';
import type { EventStore } from '@cb/nats';
import { Naming } from '@cb/subjects';
import { buildApp, type App, type AppDeps } from '../app';
import type { CommandClient } from '../command-client';
import { LiveEvents } from '../read/live-events';
import type { LiveHubs } from '../read/live-hubs';
import type { Reads } from '../read/reads';

/**
 * The gateway without NATS, for tests of what needs none (documentation, metrics): the
 * dependencies a test does not override are empty objects that must never be called, except
 * live events, which the app ends on close and counts for /metrics: no streams, no hubs.
 */
export function appWithoutNats(overrides: Partial<AppDeps> = {}): App {
  const never = {} as unknown;
  return buildApp({
    logger: createLogger({ service: 'query-gateway-test', level: 'silent' }),
    commands: never as CommandClient,
    reads: never as Reads,
    live: new LiveEvents({ size: 0 } as LiveHubs, { maxConnections: 1, clientBufferBytes: 65_536 }),
    store: never as EventStore,
    naming: new Naming(),
    maxBodyBytes: 1024 * 1024,
    bulkFireConcurrency: 4,
    idempotencyWindowMs: 600_000,
    readiness: async () => ({ nats: true }),
    ...overrides,
  });
}
