import { guardPoolSettingsOf, namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import { connectNats, decodeJson, ensureInfrastructure, isNatsConnected } from '@cb/nats';
import {
  bootstrap,
  boundedProbe,
  exitOnStartupError,
  onShutdownSignal,
  startOpsServer,
} from '@cb/ops';
import { jsApiStreamInfo, Naming } from '@cb/subjects';
import { loadCommandServiceConfig } from './config';
import { createCommandService } from './service';

const SERVICE = 'command-service';

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadCommandServiceConfig());
  try {
    const naming = new Naming(namingOptionsOf(config));
    const nc = await connectNats(natsSettingsOf(config, SERVICE), logger);
    const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger, {
      deadLetters: false,
    });
    const service = createCommandService({
      nc,
      infra,
      naming,
      logger,
      maxRetries: config.COMMAND_MAX_RETRIES,
      concurrency: config.COMMAND_CONCURRENCY,
      guards: guardPoolSettingsOf(config),
      leaseTtlMs: config.COMMAND_LEASE_TTL_MS,
    });
    const { server, metrics } = service;
    await service.guards.whenReady();
    await server.start();
    // Stream info is answered by the stream's leader, which every write needs: during an
    // election it fails, and /ready says so within the bound.
    const streamWritable = boundedProbe(
      () =>
        infra.mux.request(jsApiStreamInfo(naming.stream), new Uint8Array(0), 750).then(assertJsOk),
      750,
    );
    const ops = await startOpsServer({
      host: config.COMMAND_HTTP_HOST,
      port: config.COMMAND_HTTP_PORT,
      registry: metrics.registry,
      logger,
      readiness: [
        { name: 'nats', check: () => isNatsConnected(nc) },
        { name: 'guardWorkers', check: () => service.guards.readyWorkers > 0 },
        { name: 'leases', check: () => server.leasesHealthy },
        { name: 'eventStream', check: () => isNatsConnected(nc) && streamWritable() },
      ],
      healthDetails: () => ({ service: SERVICE, inFlight: server.busy, owned: server.ownedItems }),
    });
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await service.stop();
      await ops.close();
      await nc.drain();
    });
    logger.info(
      { stream: naming.stream, partitions: naming.partitions, opsPort: ops.port },
      'command service ready',
    );
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

/** A JetStream API answer that is an error (e.g. 10008, no cluster leader) fails the probe. */
function assertJsOk(msg: { data: Uint8Array }): void {
  const answer = decodeJson(msg.data) as { error?: unknown } | undefined;
  if (answer === undefined || answer.error !== undefined) throw new Error('JetStream refused');
}

void main();
