import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import type { Logger } from '@cb/logging';
import {
  EventStore,
  LeanKv,
  connectNats,
  ensureInfrastructure,
  type Infrastructure,
  provision,
} from '@cb/nats';
import { Naming } from '@cb/subjects';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ProjectionConfig } from './config';
import { createProjectionMetrics } from './metrics';
import type { ProjectorDeps } from './projector';

export interface ProjectionConnection {
  nc: NatsConnection;
  infra: Infrastructure;
  naming: Naming;
  deps: ProjectorDeps;
}

/**
 * Connect, ensure the stream and buckets (the projector bucket included) and wire what a
 * projector needs, from the service's configuration: shared by the worker and the rebuild.
 */
export async function connectProjection(
  config: ProjectionConfig,
  clientName: string,
  logger: Logger,
  workerId: string,
): Promise<ProjectionConnection> {
  const naming = new Naming(namingOptionsOf(config));
  const nc = await connectNats(natsSettingsOf(config, clientName), logger);
  const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger, {
    idempotency: false,
  });
  const projectorKv = await provision(
    () =>
      infra.kvm.create(naming.projectorBucket, { history: 1, replicas: config.CB_STREAM_REPLICAS }),
    { what: 'projector bucket', logger },
  );
  const deps = await projectorDeps(nc, infra, naming, projectorKv, {
    logger,
    workerId,
    settings: {
      batchSize: config.PROJECTION_BATCH_SIZE,
      leaseTtlMs: config.PROJECTION_LEASE_TTL_MS,
      ackWaitMs: config.PROJECTION_ACK_WAIT_MS,
      maxAttempts: config.PROJECTION_MAX_ATTEMPTS,
      replicas: config.CB_STREAM_REPLICAS,
    },
  });
  return { nc, infra, naming, deps };
}

/** What a projector needs, over one connection whose stream and buckets exist. */
export async function projectorDeps(
  nc: NatsConnection,
  infra: Infrastructure,
  naming: Naming,
  projectorKv: KV,
  o: Pick<ProjectorDeps, 'logger' | 'workerId' | 'settings'>,
): Promise<ProjectorDeps> {
  return {
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    kvm: infra.kvm,
    mux: infra.mux,
    store: new EventStore(nc, infra.mux, naming.stream),
    naming,
    projectorKv,
    projectorLean: new LeanKv(infra.mux, naming.projectorBucket),
    metrics: createProjectionMetrics(),
    ...o,
  };
}
