import type { EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import type { AuthDeps } from '../auth/plugin';
import type { CommandClient } from '../command-client';
import type { LiveEvents } from '../read/live-events';
import type { Reads } from '../read/reads';

/** What the GraphQL endpoint is built from: the same read layer and command path as REST. */
export interface GraphqlDeps {
  reads: Reads;
  commands: CommandClient;
  store: EventStore;
  naming: Naming;
  live: LiveEvents;
  /** The authenticator, rate limiter and failure slow-down of REST: subscriptions authenticate at connection_init. */
  auth: AuthDeps;
  /** Tokens fired at once by one bulk transition (BULK_FIRE_CONCURRENCY). */
  bulkFireConcurrency: number;
  /** CB_DUPLICATE_WINDOW_MS (bulk transitions report replays within it). */
  idempotencyWindowMs: number;
}
