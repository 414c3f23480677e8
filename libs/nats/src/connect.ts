import { readFile } from 'node:fs/promises';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';

export interface NatsConnectionSettings {
  /** Comma-separated list, as in `NATS_URL`. */
  url: string;
  user?: string;
  password?: string;
  token?: string;
  /** Path to a `.creds` file (JWT + nkey seed). */
  credsFile?: string;
  /** Connection name shown by the server (`service@host/pid`). */
  name: string;
}

export function parseServers(url: string): string[] {
  return url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Connect and keep reconnecting forever: a restarted or unreachable NATS never kills a service.
 * Every status change is logged. The first connect also waits for the server to come up.
 */
export async function connectNats(
  settings: NatsConnectionSettings,
  logger: Logger,
): Promise<NatsConnection> {
  const log = logger.child({ component: 'nats', connection: settings.name });
  const options: NodeConnectionOptions = {
    servers: parseServers(settings.url),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    maxPingOut: 3,
    // Async traces allocate two Error objects (stack captures) per request: a large share of
    // CPU on the hot path. Errors still carry their own stacks.
    noAsyncTraces: true,
  };
  if (settings.user !== undefined) {
    options.user = settings.user;
    options.pass = settings.password;
  }
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.credsFile !== undefined) {
    const creds = await readFile(settings.credsFile);
    options.authenticator = credsAuthenticator(new Uint8Array(creds));
  }
  log.info({ servers: options.servers }, 'connecting to NATS');
  const nc = await connect(options);
  log.info({ server: nc.getServer() }, 'connected to NATS');
  connected.set(nc, true);
  void watchStatus(nc, log);
  return nc;
}

const connected = new WeakMap<NatsConnection, boolean>();

/** Whether the connection is up right now (false while reconnecting, draining or closed). */
export function isNatsConnected(nc: NatsConnection): boolean {
  return connected.get(nc) === true && !nc.isClosed() && !nc.isDraining();
}

async function watchStatus(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        connected.set(nc, false);
        log.warn({ server: s.server }, 'disconnected from NATS; reconnecting');
        break;
      case 'reconnect':
        connected.set(nc, true);
        log.info({ server: s.server }, 'reconnected to NATS');
        break;
      case 'error':
        log.error({ err: s.error }, 'NATS connection error');
        break;
      case 'ldm':
        log.warn({ server: s.server }, 'NATS server entering lame-duck mode');
        break;
      case 'staleConnection':
        log.warn('stale NATS connection');
        break;
      case 'slowConsumer':
        log.warn({ pending: s.pending, subject: s.sub.getSubject() }, 'slow consumer');
        break;
      default:
        break;
    }
  }
}
