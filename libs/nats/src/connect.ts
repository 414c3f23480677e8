import { readFile } from 'node:fs/promises';
import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import { inboxPrefixOf } from './server-config';

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
  /**
   * Prefix of this connection's reply and delivery inboxes (default `_INBOX_<user>` with a user,
   * else `_INBOX`): with per-user permissions a user may subscribe below its own prefix only.
   */
  inboxPrefix?: string;
  /** TLS: the CA that signed the server's certificate, and a client certificate and key. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The inbox prefix of a connection: the setting, else `_INBOX_<user>`, else nats.js's `_INBOX`. */
export function inboxPrefixFor(
  settings: Pick<NatsConnectionSettings, 'user' | 'inboxPrefix'>,
): string | undefined {
  if (settings.inboxPrefix !== undefined) return settings.inboxPrefix;
  return settings.user !== undefined ? inboxPrefixOf(settings.user) : undefined;
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
  const inboxPrefix = inboxPrefixFor(settings);
  if (inboxPrefix !== undefined) options.inboxPrefix = inboxPrefix;
  const tls = settings.tls;
  if (tls && (tls.caFile ?? tls.certFile ?? tls.keyFile) !== undefined) {
    // The node transport reads the files; a CA of our own replaces the system's trust store.
    options.tls = {
      ...(tls.caFile !== undefined ? { caFile: tls.caFile } : {}),
      ...(tls.certFile !== undefined ? { certFile: tls.certFile } : {}),
      ...(tls.keyFile !== undefined ? { keyFile: tls.keyFile } : {}),
    };
  }
  const authenticated =
    settings.user !== undefined || settings.token !== undefined || settings.credsFile !== undefined;
  if (!authenticated) {
    log.warn(
      { servers: options.servers },
      'NATS is unauthenticated: no NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS, so anyone ' +
        'who reaches NATS can forge events and read replies (README, "NATS permissions and TLS")',
    );
  }
  log.info(
    { servers: options.servers, user: settings.user, tls: options.tls !== undefined },
    'connecting to NATS',
  );
  const nc = await connect(options);
  log.info({ server: nc.getServer() }, 'connected to NATS');
  connected.set(nc, true);
  void watchStatus(nc, log);
  return nc;
}

const connected = new WeakMap<NatsConnection, boolean>();

/**
 * Drain at shutdown, after the service stopped taking work; a server that is going away at the
 * same moment (a Ctrl-C to the whole process group stops nats-server too) fails the drain with
 * "connection disconnected". Nothing acknowledged is lost then (what the service answered was
 * already flushed), so that is logged and the connection closed, not an unclean exit.
 */
export async function drainAtShutdown(nc: NatsConnection, log: Logger): Promise<void> {
  try {
    await nc.drain();
  } catch (err) {
    log.warn({ err: String(err) }, 'NATS went away while draining; closing');
    await nc.close().catch(() => undefined);
  }
}

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
