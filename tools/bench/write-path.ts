/**
 * Write path: end-to-end fires through the gateway at 32 in flight, beside the raw JetStream
 * expected-sequence publish rate at 32 in flight, measured in the same run on the same server.
 */
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  deploymentEnv,
  pingPongWorkflow,
  startServiceStack,
  startTestNats,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
} from '@cb/testing';
import { HttpClient } from './http-client';
import { newPlayer, play, type PingPongPlayer } from './ping-pong';
import { closedLoop, row, type Summary } from './stats';

const CONCURRENCY = 32;

export interface WritePathResult {
  raw: Summary;
  e2e: Summary;
}

export async function benchWritePath(seconds: number): Promise<WritePathResult> {
  const nats = await startTestNats();
  const naming = uniqueNaming();
  const services: ServiceProcess[] = [];
  try {
    const raw = await rawExpectedSeqPublish(nats.url, seconds);
    console.log(row('raw JetStream publish (expected seq), 32 in flight', raw));

    const stack = await startServiceStack(deploymentEnv(nats.url, naming));
    services.push(stack.command, stack.gateway!);
    const gatewayPort = stack.gatewayPort;
    const http = new HttpClient(new URL(`http://127.0.0.1:${gatewayPort}`), CONCURRENCY);
    const defined = await http.send('POST', '/v1/workflows', pingPongWorkflow('bench_pingpong'));
    if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);
    // One token and one keep-alive connection per worker: no two requests race on a token.
    const workers: PingPongPlayer[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      const res = await http.send('POST', '/v1/workflows/bench_pingpong/tokens', {});
      const id = (JSON.parse(res.body) as { id: string }).id;
      workers.push(await newPlayer('bench_pingpong', id, gatewayPort));
    }
    http.close();
    // Warm up (JIT, connections), then measure.
    await closedLoop(CONCURRENCY, 2, (w) => play(workers[w]!));
    const e2e = await closedLoop(CONCURRENCY, seconds, (w) => play(workers[w]!));
    console.log(row('end-to-end fire via gateway, 32 in flight', e2e, raw));
    for (const w of workers) w.conn.close();
    return { raw, e2e };
  } finally {
    await stopAll(services);
    await nats.dispose();
  }
}

/** 32 workers, each publishing to its own subject with the expected last subject sequence. */
export async function rawExpectedSeqPublish(url: string, seconds: number): Promise<Summary> {
  const nc = await connect({ servers: url });
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
