import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { processSingleton } from './host-process';
import type { StopTestNatsOptions, TestNats } from './test-nats';

/** Same server version as the compose stack and CI. */
export const NATS_IMAGE = 'nats:2.9.10-alpine';
const CLIENT_PORT = 4222;

/**
 * Whether a container runtime answers. Asked once per process: loading testcontainers alone
 * costs most of a second, so without a socket or configuration to point at it is never loaded.
 */
export function containerRuntimeAvailable(): Promise<boolean> {
  return processSingleton('container-runtime', probeContainerRuntime);
}

async function probeContainerRuntime(): Promise<boolean> {
  if (!runtimeConfigured()) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** The places testcontainers' strategies look (configuration, unix sockets, Windows pipe). */
function runtimeConfigured(): boolean {
  if (process.platform === 'win32') return true;
  if (process.env['DOCKER_HOST']) return true;
  const home = homedir();
  const candidates = [
    join(home, '.testcontainers.properties'),
    '/var/run/docker.sock',
    join(home, '.docker', 'run', 'docker.sock'),
    join(home, '.docker', 'desktop', 'docker.sock'),
    join('/run', 'user', String(userInfo().uid), 'docker.sock'),
  ];
  const xdg = process.env['XDG_RUNTIME_DIR'];
  if (xdg) candidates.push(join(xdg, 'docker.sock'));
  return candidates.some((file) => existsSync(file));
}

/**
 * A throwaway NATS container with JetStream. It uses testcontainers' GenericContainer rather than
 * @testcontainers/nats, whose NatsContainer always adds `--user test --pass test`: a URL cannot
 * carry those to nats.js, and the services connect with a bare URL.
 */
export async function startContainerNats(jetstream: boolean): Promise<TestNats> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(NATS_IMAGE)
    .withCommand(jetstream ? ['-js'] : [])
    .withExposedPorts(CLIENT_PORT)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .withStartupTimeout(120_000)
    .start();
  const host = container.getHost() === 'localhost' ? '127.0.0.1' : container.getHost();
  const port = container.getMappedPort(CLIENT_PORT);
  let stopped: Promise<unknown> | null = null;
  const stopOnce = (timeout: number): Promise<unknown> =>
    (stopped ??= container.stop({ timeout, remove: true }));
  return {
    url: `nats://${host}:${port}`,
    source: 'container',
    port,
    storeDir: null,
    pid: null,
    async stop(options: StopTestNatsOptions = {}) {
      // Docker sends SIGKILL at once with a zero timeout.
      await stopOnce(options.signal === 'SIGKILL' ? 0 : 10_000);
    },
    restart() {
      return Promise.reject(
        new Error(
          'restart() needs the nats-server binary source (same port, same store); ' +
            'a testcontainers NATS cannot be restarted on its mapped port',
        ),
      );
    },
    async dispose() {
      await stopOnce(0);
    },
  };
}
