import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import { newWorkerId } from '@cb/leases';
import {
  EventStore,
  connectNats,
  ensureInfrastructure,
  isNatsConnected,
  provision,
} from '@cb/nats';
import {
  bootstrap,
  boundedProbe,
  exitOnStartupError,
  onShutdownSignal,
  startOpsServer,
} from '@cb/ops';
import { Naming } from '@cb/subjects';
import { AutomationWorker } from './automation-worker';
import { loadAutomationConfig } from './config';
import { FireClient } from './fire-client';
import { createAutomationMetrics } from './metrics';
import { TimerRulesCache } from './timer-rules-cache';
import { WebhookDeliveries } from './webhooks';

const SERVICE = 'automation-service';
/** How long /ready waits for JetStream to answer. */
const PROBE_TIMEOUT_MS = 750;

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadAutomationConfig());
  try {
    const workerId = newWorkerId();
    const naming = new Naming(namingOptionsOf(config));
    const nc = await connectNats(natsSettingsOf(config, SERVICE), logger);
    const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger, {
      idempotency: false,
    });
    const bucket = (name: string, what: string) =>
      provision(() => infra.kvm.create(name, { history: 1, replicas: config.CB_STREAM_REPLICAS }), {
        what,
        logger,
      });
    const timersKv = await bucket(naming.timersBucket, 'timers bucket');
    const leasesKv = await bucket(naming.automationBucket, 'automation bucket');
    const metrics = createAutomationMetrics();
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const webhooks = new WebhookDeliveries({
      js,
      jsm,
      naming,
      webhooksKv: infra.webhooks,
      statusKv: infra.webhookStatus,
      metrics,
      logger: logger.child({ component: 'webhooks' }),
      settings: {
        retry: {
          baseMs: config.WEBHOOK_RETRY_BASE_MS,
          maxMs: config.WEBHOOK_RETRY_MAX_MS,
          maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        },
        failingAfter: config.WEBHOOK_FAILING_AFTER,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        ackWaitMs: config.AUTOMATION_ACK_WAIT_MS,
      },
    });
    const worker = new AutomationWorker({
      nc,
      mux: infra.mux,
      js,
      jsm,
      naming,
      timersKv,
      leasesKv,
      rules: new TimerRulesCache(new EventStore(nc, infra.mux, naming.stream), naming),
      fire: new FireClient(infra.mux, naming, config.COMMAND_TIMEOUT_MS),
      metrics,
      logger,
      workerId,
      settings: {
        leaseTtlMs: config.AUTOMATION_LEASE_TTL_MS,
        ackWaitMs: config.AUTOMATION_ACK_WAIT_MS,
        fireConcurrency: config.AUTOMATION_FIRE_CONCURRENCY,
      },
      webhooks,
    });
    await worker.start();
    const answers = boundedProbe(() => leasesKv.get(naming.workerKey(workerId)), PROBE_TIMEOUT_MS);
    const ops = await startOpsServer({
      host: config.AUTOMATION_HTTP_HOST,
      port: config.AUTOMATION_HTTP_PORT,
      registry: metrics.registry,
      logger,
      readiness: [
        { name: 'nats', check: () => isNatsConnected(nc) },
        { name: 'jetStreamAnswers', check: () => isNatsConnected(nc) && answers() },
      ],
      healthDetails: () => ({ service: SERVICE, workerId, owned: worker.owned }),
    });
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await worker.stop();
      await ops.close();
      await nc.drain();
    });
    logger.info({ workerId, opsPort: ops.port }, 'automation worker ready');
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

void main();
