/**
 * `npm start`: the whole stack on one machine. Starts nats-server (unless NATS_URL is set), the
 * command service, two projection workers and the gateway, waits until each is ready and prints
 * the URLs. Ctrl-C or SIGTERM stops every child, nats-server last.
 *
 * Launcher options (environment): CB_DATA_DIR (default `.data` in the repository) holds the
 * nats-server store in `<CB_DATA_DIR>/nats`; NATS_PORT (default 4222, or a free port if 4222 is
 * taken) is the port of that nats-server. Both are ignored when NATS_URL is set.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { findNatsServerBinary, freePort } from '@cb/testing';
import { spawnChild, type Child, type LineSink } from './children';
import { isPortFree, waitForPort, waitForReady } from './wait';

const ROOT = resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 8_000;

interface ServiceSpec {
  name: string;
  entry: string;
  env: Record<string, string>;
  readyUrl: string;
}

const colors = [36, 33, 35, 32, 34, 31];
const sink: LineSink = (name, line) => {
  const color = colors[[...name].reduce((a, c) => a + c.charCodeAt(0), 0) % colors.length];
  const prefix = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(12)}\x1b[0m` : name.padEnd(12);
  process.stdout.write(`${prefix} ${line}\n`);
};

/** A port from the environment: undefined when unset or empty, else an integer in [min, 65535]. */
function portOf(name: string, min: number): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    console.error(
      `${name}=${JSON.stringify(raw)} is invalid: expected a port number from ${min} to 65535`,
    );
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  const env = process.env;
  const gatewayPort = portOf('GATEWAY_PORT', 1) ?? 3000;
  const natsPort = portOf('NATS_PORT', 1);
  const dataRoot = resolve(env.CB_DATA_DIR?.trim() || resolve(ROOT, '.data'));
  const natsDataDir = resolve(dataRoot, 'nats');
  const children: Child[] = [];
  let nats: Child | undefined;
  let natsUrl = env.NATS_URL?.trim() || '';

  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    if (stopping) process.exit(code);
    stopping = true;
    sink('launcher', 'stopping services…');
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)));
    if (nats) {
      sink('launcher', 'stopping nats-server…');
      await nats.stop(STOP_GRACE_MS);
    }
    sink('launcher', 'stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  if (!natsUrl) {
    const binary = findNatsServerBinary();
    if (!binary) {
      console.error(
        'nats-server was not found on PATH or in /usr/sbin. Install it (`apt-get install nats-server` or ' +
          '`brew install nats-server`), set NATS_URL to an existing server, or use `docker compose -f docker/compose.yaml up`.',
      );
      process.exit(1);
    }
    if (natsPort !== undefined && !(await isPortFree(natsPort))) {
      // Otherwise the services would silently use whatever server already listens there.
      console.error(
        `NATS_PORT=${natsPort} is taken by another process: choose a free port, unset NATS_PORT, or set NATS_URL to use that server`,
      );
      process.exit(1);
    }
    const port = natsPort ?? ((await isPortFree(4222)) ? 4222 : await freePort());
    mkdirSync(natsDataDir, { recursive: true });
    nats = spawnChild(
      'nats-server',
      binary,
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', natsDataDir, '-n', 'cb-local'],
      env,
      sink,
    );
    sink('launcher', `nats-server started (pid ${nats.process.pid}), data in ${natsDataDir}`);
    try {
      await Promise.race([
        waitForPort('127.0.0.1', port, 10_000),
        nats.exited.then(() => {
          throw new Error('nats-server exited');
        }),
      ]);
    } catch (err) {
      sink('launcher', `nats-server did not start: ${(err as Error).message}`);
      await stopAll(1);
    }
    natsUrl = `nats://127.0.0.1:${port}`;
  }

  const base = { ...env, NATS_URL: natsUrl } as Record<string, string>;
  const commandPort = await freePort();
  const services: ServiceSpec[] = [
    {
      name: 'command',
      entry: 'apps/command-service/src/main.ts',
      env: { ...base, COMMAND_HTTP_PORT: String(commandPort) },
      readyUrl: `http://127.0.0.1:${commandPort}/ready`,
    },
  ];
  const projectionEntry = 'apps/projection-service/src/main.ts';
  if (existsSync(resolve(ROOT, projectionEntry))) {
    for (const n of [1, 2]) {
      const port = await freePort();
      services.push({
        name: `projection-${n}`,
        entry: projectionEntry,
        env: { ...base, PROJECTION_HTTP_PORT: String(port) },
        readyUrl: `http://127.0.0.1:${port}/ready`,
      });
    }
  }
  services.push({
    name: 'gateway',
    entry: 'apps/query-gateway/src/main.ts',
    env: { ...base, GATEWAY_PORT: String(gatewayPort) },
    readyUrl: `http://127.0.0.1:${gatewayPort}/ready`,
  });

  for (const s of services) {
    const child = spawnChild(
      s.name,
      process.execPath,
      ['--import', 'tsx', resolve(ROOT, s.entry)],
      s.env,
      sink,
    );
    children.push(child);
    sink('launcher', `${s.name} started (pid ${child.process.pid})`);
    void child.exited.then((code) => {
      if (!stopping) {
        sink('launcher', `${s.name} exited unexpectedly (code ${code}); stopping the stack`);
        void stopAll(1);
      }
    });
  }
  try {
    await Promise.all(
      services.map((s, i) =>
        waitForReady(s.readyUrl, READY_TIMEOUT_MS, () => children[i]!.process.exitCode === null),
      ),
    );
  } catch (err) {
    sink('launcher', `the stack did not become ready: ${(err as Error).message}`);
    await stopAll(1);
  }
  const url = `http://localhost:${gatewayPort}`;
  console.log(
    [
      '',
      'Circuit Breaker is ready.',
      `  gateway   ${url}`,
      `  API docs  ${url}/docs`,
      `  NATS      ${natsUrl}${nats ? ` (data in ${natsDataDir})` : ''}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
