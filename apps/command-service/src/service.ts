import type { NatsConnection } from '@nats-io/transport-node';
import { GuardPool, type GuardPoolOptions } from '@cb/guard-pool';
import type { Logger } from '@cb/logging';
import { EventStore, type Infrastructure } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import { CommandHandler } from './command-handler';
import { CommandServer } from './command-server';
import { uuidv7 } from './ids';
import { IdempotencyRecords } from './idempotency';
import { createCommandMetrics, type CommandMetrics } from './metrics';
import { TokenRepository } from './token-repository';
import { WorkflowRepository } from './workflow-repository';

export interface CommandServiceOptions {
  nc: NatsConnection;
  infra: Infrastructure;
  naming: Naming;
  logger: Logger;
  maxRetries: number;
  concurrency: number;
  /** The guard pool's budgets and size (GUARD_* variables). */
  guards: Omit<GuardPoolOptions, 'logger' | 'registry'>;
  /** Lease lifetime of a partition's commands (COMMAND_LEASE_TTL_MS). */
  leaseTtlMs: number;
  /** This instance's name among the others (default: host, pid and a random part). */
  workerId?: string;
}

export interface CommandService {
  handler: CommandHandler;
  server: CommandServer;
  metrics: CommandMetrics;
  store: EventStore;
  guards: GuardPool;
  /** Stop taking commands, finish the ones received, stop the guard workers. */
  stop(): Promise<void>;
}

/** Wire the handler and the queue-group server; `server.start()` begins taking commands. */
export function createCommandService(options: CommandServiceOptions): CommandService {
  const { nc, infra, naming, logger } = options;
  const store = new EventStore(nc, infra.mux, naming.stream);
  const metrics = createCommandMetrics();
  const guards = new GuardPool({
    ...options.guards,
    logger: logger.child({ component: 'guards' }),
    registry: metrics.registry,
  });
  const handler = new CommandHandler({
    naming,
    store,
    tokens: new TokenRepository(store, naming, logger.child({ component: 'tokens' })),
    workflows: new WorkflowRepository(store, naming, logger.child({ component: 'workflows' })),
    idempotency: new IdempotencyRecords(
      infra.idempotency,
      naming,
      logger.child({ component: 'idempotency' }),
    ),
    maxRetries: options.maxRetries,
    guards,
    logger,
  });
  const server = new CommandServer({
    nc,
    naming,
    handler,
    logger: logger.child({ component: 'commands' }),
    metrics,
    concurrency: options.concurrency,
    leases: {
      kv: infra.meta,
      ttlMs: options.leaseTtlMs,
      ...(options.workerId !== undefined ? { workerId: options.workerId } : {}),
    },
    newId: uuidv7,
  });
  return {
    handler,
    server,
    metrics,
    store,
    guards,
    async stop() {
      await server.stop();
      await guards.close();
    },
  };
}
