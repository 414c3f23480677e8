/**
 * `npm run migrate:tenants [-- --no-rebuild] [-- --force]`: moves a stream in the layout before
 * tenants into tenant `default` (see tenant-migration.ts and the README, "Migrating from the
 * layout before tenants"), then rebuilds the read models (`npm run projections:rebuild`).
 * Reads NATS_URL, the NATS credentials, CB_PREFIX, CB_STREAM, CB_PARTITIONS, CB_STREAM_REPLICAS
 * and CB_DUPLICATE_WINDOW_MS like the services. Run it with every service stopped.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import {
  commonEnvFields,
  loadConfig,
  namingOptionsOf,
  natsSettingsOf,
  streamSettingsOf,
} from '@cb/config';
import { connectNats } from '@cb/nats';
import { bootstrap } from '@cb/ops';
import { Naming } from '@cb/subjects';
import {
  MIGRATION_PRINCIPAL,
  MigrationError,
  migrateToTenants,
  type MigrationProgress,
} from './tenant-migration';

const USAGE = `usage: npm run migrate:tenants [-- --no-rebuild] [--force]
  --no-rebuild  do not run \`npm run projections:rebuild\` afterwards (the projection service
                then replays every event into empty read models when it starts)
  --force       skip the check for running services (only when you know every service is stopped)`;

const CONNECT_TIMEOUT_MS = 15_000;
const REPO_ROOT = resolve(__dirname, '..', '..');

function parseArgs(argv: string[]): { rebuild: boolean; force: boolean } {
  const known = new Set(['--no-rebuild', '--force', '--help', '-h']);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stderr.write(`${unknown.length ? `unknown argument ${unknown[0]}\n` : ''}${USAGE}\n`);
    process.exit(unknown.length ? 2 : 0);
  }
  return { rebuild: !argv.includes('--no-rebuild'), force: argv.includes('--force') };
}

function progressLine(p: MigrationProgress): string {
  const share = p.total === 0 ? 100 : (p.done / p.total) * 100;
  return `${p.step}: ${p.done.toLocaleString('en')} of ${p.total.toLocaleString('en')} events (${share.toFixed(1)} %)`;
}

function runRebuild(): Promise<number> {
  return new Promise((done) => {
    const child = spawn('npm', ['run', '--silent', 'projections:rebuild'], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: process.env,
    });
    child.once('error', () => done(1));
    child.once('exit', (code) => done(code ?? 1));
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { config, logger } = bootstrap('migrate-tenants', () =>
    loadConfig(Type.Object(commonEnvFields), { LOG_LEVEL: 'warn', ...process.env }),
  );
  const naming = new Naming(namingOptionsOf(config));
  const out = (line: string): boolean => process.stderr.write(`${line}\n`);
  const timer = setTimeout(() => {
    out(`cannot reach NATS at ${config.NATS_URL} within ${CONNECT_TIMEOUT_MS / 1000} s`);
    process.exit(1);
  }, CONNECT_TIMEOUT_MS);
  const nc = await connectNats(natsSettingsOf(config, 'migrate-tenants'), logger);
  clearTimeout(timer);

  out(`migrating stream ${naming.stream} (prefix ${naming.prefix}) into tenant default`);
  let lastLine = 0;
  let lastStep = '';
  const tty = process.stderr.isTTY;
  const result = await migrateToTenants({
    nc,
    naming,
    settings: streamSettingsOf(config),
    logger,
    force: args.force,
    onProgress: (p) => {
      const now = Date.now();
      const end = p.done === p.total;
      if (tty) {
        process.stderr.write(`\r${progressLine(p)}${end ? '\n' : ''}`);
      } else if (p.step !== lastStep || end || now - lastLine > 2000) {
        out(progressLine(p));
        lastLine = now;
      }
      lastStep = p.step;
    },
  });
  await nc.drain();
  const r = result.record;
  switch (result.outcome) {
    case 'nothing-to-migrate':
      out(
        `nothing to migrate: stream ${naming.stream} ${r ? 'is' : 'does not exist or is'} in the tenant layout already`,
      );
      return;
    case 'already-migrated':
      out(
        `nothing to do: stream ${naming.stream} was migrated on ${r?.updatedAt ?? '?'} (${r?.events ?? '?'} events)`,
      );
      return;
    case 'migrated':
      out(
        `migrated ${r?.events ?? 0} events into tenant default at their own seqs (${r?.firstSeq ?? 0}-${r?.lastSeq ?? 0}, ` +
          `${r?.gaps ?? 0} without a message kept empty), each recording the principal ` +
          `${JSON.stringify(MIGRATION_PRINCIPAL)}; removed: ${(r?.removed ?? []).join(', ') || 'nothing'}`,
      );
  }
  if (!args.rebuild) {
    out(
      'read models not rebuilt (--no-rebuild): run `npm run projections:rebuild`, or start the ' +
        'projection service, which replays every event into empty read models',
    );
    return;
  }
  out('rebuilding the read models (npm run projections:rebuild)');
  const code = await runRebuild();
  if (code !== 0) {
    out(
      `the rebuild failed (exit ${code}); the events are migrated: run \`npm run projections:rebuild\` ` +
        'again, or start the projection service, which replays every event into empty read models',
    );
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  const code = err instanceof MigrationError ? ` (${err.code})` : '';
  process.stderr.write(
    `migration failed${code}: ${err instanceof Error ? err.message : String(err)}\n` +
      'Every event is kept: in the original stream, or (once it is gone) in the copy ' +
      '<stream>_MIGRATE; running `npm run migrate:tenants` again continues.\n',
  );
  process.exit(1);
});
