/**
 * `npm run projections:rebuild`: replays the stream into fresh read models with a progress bar,
 * switches readers to them atomically and removes the old ones. Live workers keep serving.
 */
import { bootstrap } from '@cb/ops';
import { loadProjectionConfig } from './config';
import { connectProjection } from './connect';
import { newWorkerId } from '@cb/leases';
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
  const { nc, infra, naming, deps } = await connectProjection(
    config,
    'projections-rebuild',
    logger,
    `rebuild-${newWorkerId()}`,
  );
  const tty = process.stderr.isTTY;
  let lastLine = 0;
  const result = await rebuildReadModels({
    deps,
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
