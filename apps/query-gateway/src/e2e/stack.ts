import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Naming } from '@cb/subjects';
import {
  freePort,
  startService,
  startTestNats,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
  type TestNats,
} from '@cb/testing';

/** A private nats-server plus the services as real processes, for end-to-end tests. */
export interface E2eStack {
  nats: TestNats;
  naming: Naming;
  nc: NatsConnection;
  jsm: JetStreamManager;
  baseUrl: string;
  command: ServiceProcess;
  gateway: ServiceProcess;
  projections: ServiceProcess[];
  env: Record<string, string>;
  /** Messages stored on one subject (counts events without consuming). */
  countOn(subject: string): Promise<number>;
  stop(): Promise<void>;
}

export interface E2eStackOptions {
  /** Projection workers to run (default 0: write-path tests need none). */
  projectionWorkers?: number;
}

export async function startE2eStack(
  extraEnv: Record<string, string> = {},
  options: E2eStackOptions = {},
): Promise<E2eStack> {
  const nats = await startTestNats();
  const naming = uniqueNaming();
  const env = {
    NATS_URL: nats.url,
    CB_PREFIX: naming.prefix,
    CB_STREAM: naming.stream,
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const commandPort = await freePort();
  const gatewayPort = await freePort();
  const command = await startService('command-service', {
    env: { ...env, COMMAND_HTTP_PORT: String(commandPort) },
    readyUrl: `http://127.0.0.1:${commandPort}/ready`,
  });
  const gateway = await startService('query-gateway', {
    env: { ...env, GATEWAY_PORT: String(gatewayPort), GATEWAY_HOST: '127.0.0.1' },
    // Its /ready also needs the read-model buckets, which projection workers create: /health
    // answers once it is listening, i.e. connected to NATS with the stream ensured.
    readyUrl: `http://127.0.0.1:${gatewayPort}/health`,
  });
  const projections: ServiceProcess[] = [];
  for (let i = 0; i < (options.projectionWorkers ?? 0); i++) {
    const port = await freePort();
    projections.push(
      await startService('projection-service', {
        env: { ...env, PROJECTION_HTTP_PORT: String(port), PROJECTION_HTTP_HOST: '127.0.0.1' },
        readyUrl: `http://127.0.0.1:${port}/ready`,
      }),
    );
  }
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  return {
    nats,
    naming,
    nc,
    jsm,
    baseUrl: `http://127.0.0.1:${gatewayPort}`,
    command,
    gateway,
    projections,
    env,
    async countOn(subject) {
      const info = await jsm.streams.info(naming.stream, { subjects_filter: subject });
      return info.state.subjects?.[subject] ?? 0;
    },
    async stop() {
      await nc.close();
      await stopAll([gateway, command, ...projections]);
      await nats.dispose();
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call; the body is parsed when it is JSON. */
export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
