import { ensureKeysBucket } from '@cb/auth';
import { isNatsConnected } from '@cb/nats';
import { bootstrap, exitOnStartupError, onShutdownSignal, startOpsServer } from '@cb/ops';
import { loadProjectionConfig } from './config';
import { connectProjection } from './connect';
import { KeyProjection } from './key-projection';
import { WebhookProjection } from './webhook-projection';
import { newWorkerId } from '@cb/leases';
import { workerReadiness } from './readiness';
import { ProjectionWorker } from './worker';

const SERVICE = 'projection-service';

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadProjectionConfig());
  try {
    const workerId = newWorkerId();
    const { nc, infra, naming, deps } = await connectProjection(config, SERVICE, logger, workerId);
    const metrics = deps.metrics;
    const worker = new ProjectionWorker(deps, infra.meta, naming, logger);
    await worker.start();
    // The keys bucket gateways authenticate against: not a read model (no generations).
    const keys = new KeyProjection({
      js: infra.js,
      jsm: infra.jsm,
      naming,
      keys: await ensureKeysBucket(infra.js, naming, config.CB_STREAM_REPLICAS, logger),
      logger: logger.child({ component: 'keys' }),
    });
    await keys.start();
    // The webhooks bucket gateways list and the automation delivers to (not generational either).
    const webhooks = new WebhookProjection({
      js: infra.js,
      jsm: infra.jsm,
      naming,
      webhooks: infra.webhooks,
      logger: logger.child({ component: 'webhooks' }),
    });
    await webhooks.start();
    const ops = await startOpsServer({
      host: config.PROJECTION_HTTP_HOST,
      port: config.PROJECTION_HTTP_PORT,
      registry: metrics.registry,
      logger,
      readiness: workerReadiness({
        connected: () => isNatsConnected(nc),
        read: (timeoutMs) => deps.projectorLean.get(naming.workerKey(workerId), timeoutMs),
        generation: () => worker.generation,
        failing: () => worker.failing(),
      }),
      healthDetails: () => ({
        service: SERVICE,
        workerId,
        generation: worker.generation,
        owned: worker.owned,
        failing: worker.failing(),
      }),
    });
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await worker.stop();
      await keys.stop();
      await webhooks.stop();
      await ops.close();
      await nc.drain();
    });
    logger.info({ workerId, opsPort: ops.port }, 'projection worker ready');
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

void main();
