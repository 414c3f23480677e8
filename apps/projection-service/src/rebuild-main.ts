/**
 * `npm run projections:rebuild`: replays the stream into fresh read models with a progress bar,
 * switches readers to them atomically and removes the old ones. Live workers keep serving.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { namingOptionsOf, natsSettingsOf, streamSettingsOf } from '@cb/config';
import { EventStore, LeanKv, connectNats, ensureInfrastructure } from '@cb/nats';
import { bootstrap } from '@cb/ops';
import { Naming } from '@cb/subjects';
import { loadProjectionConfig } from './config';
import { newWorkerId } from './lease-manager';
import { createProjectionMetrics } from './metrics';
import { rebuildReadModels, type RebuildProgress } from './rebuild';

function progressBar(p: RebuildProgress): string {
  const width = 30;
  const share = p.total === 0 ? 1 : p.applied / p.total;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(1).padStart(5)} %  ${p.applied.toLocaleString('en')}/${p.total.toLocaleString('en')} events  ${Math.round(p.eventsPerSecond).toLocaleString('en')} events/s`;
}

async function main(): Promise<void> {
  const { config, logger } = bootstrap('projections-rebuild', () =>
    loadProjectionConfig({ LOG_LEVEL: 'warn', ...process.env }),
  );
  const naming = new Naming(namingOptionsOf(config));
  const nc = await connectNats(natsSettingsOf(config, 'projections-rebuild'), logger);
  const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger);
  const projectorKv = await infra.kvm.create(naming.projectorBucket, {
    history: 1,
    replicas: config.CB_STREAM_REPLICAS,
  });
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const result = await rebuildReadModels({
    deps: {
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      kvm: infra.kvm,
      mux: infra.mux,
      store: new EventStore(nc, infra.mux, naming.stream),
      naming,
      projectorKv,
      projectorLean: new LeanKv(infra.mux, naming.projectorBucket),
      metrics: createProjectionMetrics(),
      logger,
      workerId: `rebuild-${newWorkerId()}`,
      settings: {
        batchSize: config.PROJECTION_BATCH_SIZE,
        leaseTtlMs: config.PROJECTION_LEASE_TTL_MS,
        ackWaitMs: config.PROJECTION_ACK_WAIT_MS,
        maxAttempts: config.PROJECTION_MAX_ATTEMPTS,
        replicas: config.CB_STREAM_REPLICAS,
      },
    },
    meta: infra.meta,
    naming,
    logger,
    onProgress: (p) => {
      if (tty) process.stderr.write(`\r${progressBar(p)}`);
      else if (Date.now() - lastLine > 2000 || p.applied === p.total) {
        lastLine = Date.now();
        process.stderr.write(`${progressBar(p)}\n`);
      }
    },
  });
  if (tty) process.stderr.write('\n');
  process.stderr.write(
    `rebuilt generation ${result.to} from ${result.events.toLocaleString('en')} events in ${result.seconds.toFixed(1)} s; readers switched; generation ${result.from} removed\n`,
  );
  await nc.drain();
}

main().catch((err: unknown) => {
  process.stderr.write(`rebuild failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
