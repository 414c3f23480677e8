import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '@cb/logging';

export interface ReadinessCheck {
  name: string;
  check: () => boolean | Promise<boolean>;
}

export interface OpsServerOptions {
  host: string;
  /** Preferred port; when taken (several instances on one host), any free port is used instead. */
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
  logger: Logger;
  /** Extra JSON served at /health (e.g. owned partitions). */
  healthDetails?: () => Record<string, unknown>;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** `/health` (the process is up), `/ready` (its dependencies are) and `/metrics` (Prometheus). */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    void route(options, req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'ops request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"status":"error"}');
    });
  });
  const port = await listen(server, options.host, options.port).catch(
    async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' || options.port === 0) throw err;
      const fallback = await listen(server, options.host, 0);
      options.logger.warn(
        { wanted: options.port, port: fallback },
        'ops port taken; using a free port',
      );
      return fallback;
    },
  );
  options.logger.info({ port }, 'health and metrics listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

async function route(
  options: OpsServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET') {
    res
      .writeHead(405, { 'content-type': 'application/json', allow: 'GET' })
      .end('{"status":"method not allowed"}');
    return;
  }
  switch (path) {
    case '/health':
      json(res, 200, { status: 'ok', ...(options.healthDetails?.() ?? {}) });
      return;
    case '/ready': {
      const results = await Promise.all(
        options.readiness.map(
          async (r) => [r.name, await Promise.resolve(r.check()).catch(() => false)] as const,
        ),
      );
      const ready = results.every(([, ok]) => ok);
      json(res, ready ? 200 : 503, {
        status: ready ? 'ready' : 'not ready',
        checks: Object.fromEntries(results),
      });
      return;
    }
    case '/metrics':
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(await options.registry.metrics());
      return;
    default:
      json(res, 404, { status: 'not found' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
