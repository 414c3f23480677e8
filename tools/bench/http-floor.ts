/**
 * The HTTP floor of the read benchmark: a bare `node:http` server (no framework, no validation,
 * no metrics, no logging) answering `GET /<key>` with one lean KV direct get. It is the least a
 * Node HTTP front can cost on top of a KV get on this machine, so the gateway's share of the raw
 * KV rate reads against it. Runs as its own process, as the gateway does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { connect, type ConnectionOptions } from '@nats-io/transport-node';
import { LeanKv, RequestMux } from '@cb/nats';

export interface HttpFloor {
  port: number;
  stop(): Promise<void>;
}

/** The floor server as its own process, connecting to NATS with `nats` (its user's options). */
export function startHttpFloor(nats: ConnectionOptions, bucket: string): Promise<HttpFloor> {
  // The options (a password among them) through the environment, not the command line.
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_NATS_OPTIONS: JSON.stringify(nats) },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`http floor server exited (${code})`)));
    child
      .stdout!.setEncoding('utf8')
      .once('data', (line: string) =>
        resolve({ port: Number(line.trim()), stop: () => stop(child, exited) }),
      );
  });
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  child.kill('SIGTERM');
  await exited;
}

async function serve(nats: ConnectionOptions, bucket: string): Promise<void> {
  const nc = await connect(nats);
  const kv = new LeanKv(new RequestMux(nc), bucket);
  const server = createServer((req, res) => {
    kv.get(req.url!.slice(1)).then(
      (entry) => {
        if (entry === null || entry.operation !== 'PUT') {
          res.writeHead(404, { 'content-length': 0 }).end();
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': entry.value.byteLength,
        });
        res.end(entry.value);
      },
      () => res.writeHead(503, { 'content-length': 0 }).end(),
    );
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    void nc.close().then(() => process.exit(0));
  });
}

if (require.main === module) {
  void serve(
    JSON.parse(process.env['BENCH_NATS_OPTIONS'] ?? '{}') as ConnectionOptions,
    process.argv[2]!,
  );
}
