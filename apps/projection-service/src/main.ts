import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import { EventStore, LeanKv, connectNats, ensureInfrastructure, isNatsConnected } from '@cb/nats';
import { bootstrap, exitOnStartupError, onShutdownSignal, startOpsServer } from '@cb/ops';
import { Naming } from '@cb/subjects';
import { loadProjectionConfig } from './config';
import { newWorkerId } from './lease-manager';
import { createProjectionMetrics } from './metrics';
import { ProjectionWorker } from './worker';

const SERVICE = 'projection-service';

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadProjectionConfig());
  try {
    const naming = new Naming(namingOptionsOf(config));
    const nc = await connectNats(natsSettingsOf(config, SERVICE), logger);
    const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger);
    const projectorKv = await infra.kvm.create(naming.projectorBucket, {
      history: 1,
      replicas: config.CB_STREAM_REPLICAS,
    });
    const metrics = createProjectionMetrics();
    const workerId = newWorkerId();
    const worker = new ProjectionWorker(
      {
        js: jetstream(nc),
        jsm: await jetstreamManager(nc),
        kvm: infra.kvm,
        mux: infra.mux,
        store: new EventStore(nc, infra.mux, naming.stream),
        naming,
        projectorKv,
        projectorLean: new LeanKv(infra.mux, naming.projectorBucket),
        metrics,
        logger,
        workerId,
        settings: {
          batchSize: config.PROJECTION_BATCH_SIZE,
          leaseTtlMs: config.PROJECTION_LEASE_TTL_MS,
          ackWaitMs: config.PROJECTION_ACK_WAIT_MS,
          maxAttempts: config.PROJECTION_MAX_ATTEMPTS,
          replicas: config.CB_STREAM_REPLICAS,
        },
      },
      infra.meta,
      naming,
      logger,
    );
    await worker.start();
    const ops = await startOpsServer({
      host: config.PROJECTION_HTTP_HOST,
      port: config.PROJECTION_HTTP_PORT,
      registry: metrics.registry,
      logger,
      readiness: [
        { name: 'nats', check: () => isNatsConnected(nc) },
        { name: 'projector', check: () => worker.generation !== null },
      ],
      healthDetails: () => ({
        service: SERVICE,
        workerId,
        generation: worker.generation,
        owned: worker.owned,
      }),
    });
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await worker.stop();
      await ops.close();
      await nc.drain();
    });
    logger.info({ workerId, opsPort: ops.port }, 'projection worker ready');
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

void main();
