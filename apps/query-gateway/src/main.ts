import { namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import { EventStore, connectNats, ensureInfrastructure, isNatsConnected } from '@cb/nats';
import { bootstrap, exitOnStartupError, onShutdownSignal } from '@cb/ops';
import { Naming } from '@cb/subjects';
import { buildApp } from './app';
import { CommandClient } from './command-client';
import { loadGatewayConfig } from './config';
import { StrongTokenReader } from './token-reader';

const SERVICE = 'query-gateway';

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadGatewayConfig());
  try {
    const naming = new Naming(namingOptionsOf(config));
    const nc = await connectNats(natsSettingsOf(config, SERVICE), logger);
    const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger);
    const store = new EventStore(nc, infra.mux, naming.stream);
    const app = buildApp({
      logger,
      commands: new CommandClient(nc, infra.mux, naming, config.COMMAND_TIMEOUT_MS),
      strongReads: new StrongTokenReader(store, naming),
      maxBodyBytes: config.MAX_BODY_BYTES,
      readiness: async () => {
        const nats = isNatsConnected(nc);
        const stream = nats
          ? await infra.jsm.streams.info(naming.stream).then(
              () => true,
              () => false,
            )
          : false;
        return { nats, stream };
      },
    });
    const address = await app.listen({ port: config.GATEWAY_PORT, host: config.GATEWAY_HOST });
    logger.info({ address }, 'gateway listening');
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await app.close();
      await nc.drain();
    });
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

void main();
