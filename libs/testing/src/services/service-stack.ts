import { randomBytes } from 'node:crypto';
import type { Naming } from '@cb/subjects';
import { freePort } from '@cb/ops';
import { startService, stopAll, type ServiceProcess } from './service-process';

/**
 * Environment every service of one deployment shares: where NATS is, the names in it, and a
 * root credential of its own (`CB_ADMIN_KEY`: authentication is on in every test; send
 * `adminAuthorization(env)`).
 */
export function deploymentEnv(
  natsUrl: string,
  naming: Naming,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    CB_PREFIX: naming.prefix,
    CB_STREAM: naming.stream,
    LOG_LEVEL: 'warn',
    CB_ADMIN_KEY: randomAdminKey(),
    ...extra,
  };
}

/** A fresh root credential (`CB_ADMIN_KEY`): 43 base64url characters, 256 random bits. */
export function randomAdminKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The `Authorization` header of the deployment's root credential. */
export function adminAuthorization(env: Record<string, string>): { authorization: string } {
  const key = env['CB_ADMIN_KEY'];
  if (key === undefined) throw new Error('the deployment has no CB_ADMIN_KEY');
  return { authorization: `Bearer ${key}` };
}

/** A service process and where its /health, /ready and /metrics are. */
export type ServiceWithOps = ServiceProcess & { readonly opsUrl: string };

/** One service process on free ports, ready when its /ready answers. */
export async function startCommandService(env: Record<string, string>): Promise<ServiceWithOps> {
  const port = await freePort();
  const opsUrl = `http://127.0.0.1:${port}`;
  const process = await startService('command-service', {
    env: { ...env, COMMAND_HTTP_PORT: String(port), COMMAND_HTTP_HOST: '127.0.0.1' },
    readyUrl: `${opsUrl}/ready`,
  });
  return Object.assign(process, { opsUrl });
}

export async function startProjectionWorker(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('projection-service', {
    env: { ...env, PROJECTION_HTTP_PORT: String(port), PROJECTION_HTTP_HOST: '127.0.0.1' },
    readyUrl: `http://127.0.0.1:${port}/ready`,
  });
}

/** An automation worker on a free ops port, ready when its /ready answers. */
export async function startAutomationWorker(
  env: Record<string, string>,
  name?: string,
): Promise<ServiceWithOps> {
  const port = await freePort();
  const opsUrl = `http://127.0.0.1:${port}`;
  const process = await startService('automation-service', {
    env: { ...env, AUTOMATION_HTTP_PORT: String(port), AUTOMATION_HTTP_HOST: '127.0.0.1' },
    readyUrl: `${opsUrl}/ready`,
    ...(name !== undefined ? { name } : {}),
  });
  return Object.assign(process, { opsUrl });
}

/**
 * The gateway on a free port. Its /ready also needs the read-model buckets, which projection
 * workers create; without workers wait for /health (listening, NATS connected, stream ensured).
 */
export async function startGateway(
  env: Record<string, string>,
  options: { withProjections: boolean },
): Promise<{ process: ServiceProcess; url: string; port: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const process = await startService('query-gateway', {
    env: { ...env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1' },
    readyUrl: `${url}/${options.withProjections ? 'ready' : 'health'}`,
  });
  return { process, url, port };
}

export interface ServiceStackOptions {
  /** Projection workers (default 0). */
  projectionWorkers?: number;
  /** Start the gateway (default true). */
  gateway?: boolean;
  /**
   * Variables for one kind of service on top of the shared `env`, e.g. its own NATS_USER and
   * NATS_PASSWORD (see `natsUserEnv`).
   */
  serviceEnv?: {
    command?: Record<string, string>;
    projection?: Record<string, string>;
    gateway?: Record<string, string>;
  };
}

/** The variables that make a service connect as one NATS user. */
export function natsUserEnv(user: string, password: string): Record<string, string> {
  return { NATS_USER: user, NATS_PASSWORD: password };
}

export interface ServiceStack {
  command: ServiceProcess;
  projections: ServiceProcess[];
  gateway: ServiceProcess | undefined;
  /** `http://127.0.0.1:<port>` of the gateway ('' without one). */
  gatewayUrl: string;
  gatewayPort: number;
  stop(): Promise<void>;
}

/** The command service, projection workers and the gateway as processes, in that order. */
export async function startServiceStack(
  env: Record<string, string>,
  options: ServiceStackOptions = {},
): Promise<ServiceStack> {
  const started: ServiceProcess[] = [];
  try {
    const own = options.serviceEnv ?? {};
    const command = await startCommandService({ ...env, ...own.command });
    started.push(command);
    const projections: ServiceProcess[] = [];
    for (let i = 0; i < (options.projectionWorkers ?? 0); i++) {
      projections.push(await startProjectionWorker({ ...env, ...own.projection }));
      started.push(projections.at(-1)!);
    }
    const gateway =
      options.gateway === false
        ? undefined
        : await startGateway(
            { ...env, ...own.gateway },
            { withProjections: projections.length > 0 },
          );
    if (gateway) started.push(gateway.process);
    return {
      command,
      projections,
      gateway: gateway?.process,
      gatewayUrl: gateway?.url ?? '',
      gatewayPort: gateway?.port ?? 0,
      stop: () => stopAll([...started].reverse()),
    };
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}
