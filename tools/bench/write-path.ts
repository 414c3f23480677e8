/**
 * Write path: end-to-end fires through the gateway at 32 in flight, beside the raw JetStream
 * expected-sequence publish rate at 32 in flight, measured in the same run on the same server.
 * Authentication is on: the fires run once as the root credential and once as a tenant API key,
 * whose requests also pass the rate limiter; the difference is what both cost per request. The
 * stack is the one `npm start` runs: the command service, two projection workers (which also
 * write API keys into the bucket the gateway authenticates from) and the gateway, each as its own
 * NATS user under the generated permissions (see `startBenchNats`), at npm start's log level. Each
 * fire row is followed by the CPU each process of the stack spent per fire (from /proc).
 */
import { connect, type ConnectionOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  adminAuthorization,
  deploymentEnv,
  pingPongWorkflow,
  startServiceStack,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
} from '@cb/testing';
import { startBenchNats } from './bench-nats';
import { benchCredentials } from './credentials';
import { HttpClient } from './http-client';
import { LeanConnection } from './lean-http';
import { newPlayer, play, type PingPongPlayer } from './ping-pong';
import { CpuMeter, type ProcessCpu } from './process-cpu';
import { alternating, closedLoop, row, type Summary } from './stats';

const CONCURRENCY = 32;

export interface WritePathResult {
  raw: Summary;
  /** As the root credential (not rate limited). */
  e2e: Summary;
  /** As a tenant API key (authenticated from the cache, then rate limited). */
  apiKey: Summary;
}

export async function benchWritePath(seconds: number): Promise<WritePathResult> {
  const naming = uniqueNaming();
  const nats = await startBenchNats(naming);
  const services: ServiceProcess[] = [];
  try {
    const raw = await rawExpectedSeqPublish(nats.as('admin'), seconds);
    console.log(row('raw JetStream publish (expected seq), 32 in flight', raw));

    // npm start's log level (deploymentEnv's is `warn`, for tests): what a line per request costs counts.
    const env = deploymentEnv(nats.url, naming, { LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' });
    const stack = await startServiceStack(env, {
      projectionWorkers: 2,
      serviceEnv: nats.serviceEnv,
    });
    services.push(stack.command, ...stack.projections, stack.gateway!);
    const gatewayPort = stack.gatewayPort;
    const root = adminAuthorization(env);
    const credentials = await benchCredentials(gatewayPort, root);
    const http = new HttpClient(new URL(`http://127.0.0.1:${gatewayPort}`), CONCURRENCY, root);
    const defined = await http.send('POST', '/v1/workflows', pingPongWorkflow('bench_pingpong'));
    if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);
    // One token and one keep-alive connection per worker: no two requests race on a token.
    const workers: PingPongPlayer[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const res = await http.send('POST', '/v1/workflows/bench_pingpong/tokens', {});
      const id = (JSON.parse(res.body) as { id: string }).id;
      workers.push(await newPlayer('bench_pingpong', id, gatewayPort, credentials.root));
    }
    http.close();
    // Each token also gets a connection holding the API key; a worker fires its one token over
    // either, never both at once.
    const keyed = await Promise.all(
      workers.map(async (w) => ({
        ...w,
        conn: await LeanConnection.open('127.0.0.1', gatewayPort, credentials.apiKey),
      })),
    );
    const asRoot = (w: number): Promise<boolean> => play(workers[w]!);
    const asKey = (w: number): Promise<boolean> => {
      const player = keyed[w]!;
      player.next = workers[w]!.next;
      return play(player).then((ok) => {
        workers[w]!.next = player.next;
        return ok;
      });
    };
    // Warm up (JIT, connections), then measure root and key alternately (A B B A).
    await closedLoop(CONCURRENCY, 2, asRoot);
    await closedLoop(CONCURRENCY, 1, asKey);
    const processes = stackProcesses(services, nats.pid);
    const meters = { a: new CpuMeter(processes), b: new CpuMeter(processes) };
    const { a: e2e, b: apiKey } = await alternating(
      CONCURRENCY,
      2 * seconds,
      asRoot,
      asKey,
      meters,
    );
    console.log(row('fire via gateway, root credential, 32 in flight', e2e, raw));
    console.log(`  ${meters.a.perOperation(e2e.count)}`);
    console.log(row('fire via gateway, API key + rate limit, 32 in flight', apiKey, raw));
    console.log(`  ${meters.b.perOperation(apiKey.count)}`);
    console.log(authCost(e2e, apiKey));
    for (const w of keyed) w.conn.close();
    for (const w of workers) w.conn.close();
    return { raw, e2e, apiKey };
  } finally {
    await stopAll(services);
    await nats.dispose();
  }
}

/** The stack's processes by short name (`command`, `projection-1`, …, `nats`) for CPU figures. */
function stackProcesses(services: ServiceProcess[], natsPid: number | null): ProcessCpu[] {
  const short: Record<ServiceProcess['service'], string> = {
    'command-service': 'command',
    'projection-service': 'projection',
    'query-gateway': 'gateway',
    'automation-service': 'automation',
  };
  const named = services.map((s) => {
    const sameKind = services.filter((o) => o.service === s.service);
    const n = sameKind.length > 1 ? `-${sameKind.indexOf(s) + 1}` : '';
    return { name: `${short[s.service]}${n}`, pid: s.pid };
  });
  return natsPid === null ? named : [...named, { name: 'nats', pid: natsPid }];
}

/**
 * What an API key costs beyond the root credential, per request: the rate as a share of root's,
 * and the extra wall time per request at the same concurrency (1/rate difference × in flight).
 */
export function authCost(root: Summary, apiKey: Summary): string {
  const extraUs = ((1 / apiKey.rate - 1 / root.rate) * CONCURRENCY * 1e6).toFixed(0);
  return (
    `API key + rate limit vs root: ${((100 * apiKey.rate) / root.rate).toFixed(1)} % of its rate, ` +
    `${extraUs} µs more per request (p50 ${(apiKey.p50 - root.p50).toFixed(2)} ms)`
  );
}

/** 32 workers, each publishing to its own subject with the expected last subject sequence. */
export async function rawExpectedSeqPublish(
  options: ConnectionOptions,
  seconds: number,
): Promise<Summary> {
  const nc = await connect(options);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RAW_BENCH', subjects: ['rawbench.>'], allow_direct: true });
  const js = jetstream(nc);
  const last = new Array<number>(CONCURRENCY).fill(0);
  const payload = new TextEncoder().encode(
    JSON.stringify({ type: 'token.transitioned.v1', pad: 'x'.repeat(400) }),
  );
  const op = async (w: number): Promise<boolean> => {
    const ack = await js.publish(`rawbench.${w}`, payload, {
      expect: { lastSubjectSequence: last[w]! },
    });
    last[w] = ack.seq;
    return true;
  };
  await closedLoop(CONCURRENCY, 2, op);
  const summary = await closedLoop(CONCURRENCY, seconds, op);
  await jsm.streams.delete('RAW_BENCH');
  await nc.close();
  return summary;
}
