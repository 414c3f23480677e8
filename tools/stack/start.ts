/**
 * `npm start`: the whole stack on one machine. Starts nats-server (unless NATS_URL is set), the
 * command service and the gateway, waits until each is ready and prints the URLs. Ctrl-C or
 * SIGTERM stops every child, nats-server last.
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

async function main(): Promise<void> {
  const env = process.env;
  const gatewayPort = Number(env.GATEWAY_PORT ?? 3000);
  if (!Number.isInteger(gatewayPort) || gatewayPort < 0 || gatewayPort > 65535) {
    console.error(
      `GATEWAY_PORT=${env.GATEWAY_PORT} is invalid: expected a port number from 0 to 65535`,
    );
    process.exit(2);
  }
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
    const port = Number(env.NATS_PORT ?? 0) || ((await isPortFree(4222)) ? 4222 : await freePort());
    const dataDir = resolve(ROOT, '.data/nats');
    mkdirSync(dataDir, { recursive: true });
    nats = spawnChild(
      'nats-server',
      binary,
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dataDir, '-n', 'cb-local'],
      env,
      sink,
    );
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
      `  NATS      ${natsUrl}${nats ? ' (data in .data/nats)' : ''}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
