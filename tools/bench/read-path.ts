/**
 * Read path: `GET /v1/tokens/:id` through the gateway at 32 in flight, beside raw KV direct gets
 * of the same keys at 32 in flight, measured in the same run on the same server.
 */
import { connect } from '@nats-io/transport-node';
import { LeanKv, RequestMux } from '@cb/nats';
import {
  deploymentEnv,
  loadFixtureWorkflow,
  startServiceStack,
  startTestNats,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
} from '@cb/testing';
import { LeanConnection } from './lean-http';
import { closedLoop, row, type Summary } from './stats';

const CONCURRENCY = 32;
const TOKENS = 2000;
const PROJECTED_TIMEOUT_MS = 60_000;

export interface ReadPathResult {
  raw: Summary;
  gateway: Summary;
}

/** Failed operations by kind, so a run with errors says what they were. */
class Errors {
  private readonly kinds = new Map<string, number>();
  total = 0;

  add(kind: string): false {
    this.total++;
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    return false;
  }

  print(label: string): void {
    if (this.total === 0) return;
    console.log(`  INVALID: ${this.total} ${label} errors`);
    for (const [kind, n] of [...this.kinds].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      console.log(`    ${String(n).padStart(7)} × ${kind}`);
    }
    process.exitCode = 1;
  }
}

export async function benchReadPath(seconds: number): Promise<ReadPathResult> {
  const nats = await startTestNats();
  const naming = uniqueNaming();
  const services: ServiceProcess[] = [];
  const conns: LeanConnection[] = [];
  try {
    const stack = await startServiceStack(deploymentEnv(nats.url, naming), {
      projectionWorkers: 1,
    });
    services.push(stack.command, ...stack.projections, stack.gateway!);
    const gatewayPort = stack.gatewayPort;
    for (let i = 0; i < CONCURRENCY; i++)
      conns.push(await LeanConnection.open('127.0.0.1', gatewayPort));

    const workflow = loadFixtureWorkflow('order-processing');
    const defined = await conns[0]!.request('POST', '/v1/workflows', JSON.stringify(workflow));
    if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);

    process.stdout.write(`creating ${TOKENS} tokens through the gateway… `);
    const ids = await createTokens(conns, workflow.id);
    await waitProjected(conns[0]!, ids.last);
    console.log(`${ids.all.length} created and projected`);

    // Raw baseline: direct gets of the same keys over a lean request mux on its own connection.
    const nc = await connect({ servers: nats.url });
    const mux = new RequestMux(nc);
    const kv = new LeanKv(mux, naming.readModelBucket('tokens', 1));
    const keys = ids.all.map((id) => naming.tokenKey(id));
    // Every token is in the bucket before anything is measured (not just the last one).
    await waitAllInBucket(kv, keys);
    const rawErrors = new Errors();
    const rawGet = async (): Promise<boolean> => {
      const key = keys[(Math.random() * keys.length) | 0]!;
      try {
        const entry = await kv.get(key);
        if (entry === null) return rawErrors.add('missing key');
        if (entry.operation !== 'PUT') return rawErrors.add(`operation ${entry.operation}`);
        return true;
      } catch (err) {
        return rawErrors.add(String(err));
      }
    };
    await closedLoop(CONCURRENCY, 2, rawGet);
    const warmRawErrors = rawErrors.total;
    const raw = await closedLoop(CONCURRENCY, seconds, rawGet);
    mux.close();
    await nc.close();
    console.log(row('raw KV direct get, 32 in flight', raw));
    rawErrors.print(`raw KV get (${warmRawErrors} in warm-up)`);

    const gwErrors = new Errors();
    const gwGet = async (w: number): Promise<boolean> => {
      const id = ids.all[(Math.random() * ids.all.length) | 0]!;
      try {
        const res = await conns[w]!.request('GET', `/v1/tokens/${id}`);
        if (res.status !== 200) return gwErrors.add(`${res.status} ${res.body.slice(0, 200)}`);
        return true;
      } catch (err) {
        return gwErrors.add(String(err));
      }
    };
    await closedLoop(CONCURRENCY, 2, gwGet);
    const warmGwErrors = gwErrors.total;
    const gateway = await closedLoop(CONCURRENCY, seconds, gwGet);
    console.log(row('GET /v1/tokens/:id via gateway, 32 in flight', gateway, raw));
    gwErrors.print(`gateway GET (${warmGwErrors} in warm-up)`);
    return { raw, gateway };
  } finally {
    for (const c of conns) c.close();
    await stopAll(services);
    await nats.dispose();
  }
}

/** TOKENS creates at 32 in flight; returns every id and the one with the highest version. */
async function createTokens(
  conns: LeanConnection[],
  workflowId: string,
): Promise<{ all: string[]; last: { id: string; version: number } }> {
  const all: string[] = [];
  let last = { id: '', version: 0 };
  let next = 0;
  await Promise.all(
    conns.map(async (conn) => {
      for (let i = next++; i < TOKENS; i = next++) {
        const body = JSON.stringify({
          data: { customer: `customer-${i}`, items: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 5) }] },
          metadata: { team: ['blue', 'green', 'red'][i % 3], tier: i % 4 },
        });
        const res = await conn.request('POST', `/v1/workflows/${workflowId}/tokens`, body);
        if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.body}`);
        const token = JSON.parse(res.body) as { id: string; version: number };
        all.push(token.id);
        if (token.version > last.version) last = token;
      }
    }),
  );
  return { all, last };
}

/** The gateway serves the last created token as of its version (read-your-writes). */
async function waitProjected(
  conn: LeanConnection,
  last: { id: string; version: number },
): Promise<void> {
  const deadline = Date.now() + PROJECTED_TIMEOUT_MS;
  for (;;) {
    const res = await conn.request('GET', `/v1/tokens/${last.id}?minSeq=${last.version}`);
    if (res.status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(`token ${last.id} not projected: ${res.status} ${res.body}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitAllInBucket(kv: LeanKv, keys: string[]): Promise<void> {
  const deadline = Date.now() + PROJECTED_TIMEOUT_MS;
  let missing = keys;
  while (missing.length) {
    const found = await Promise.all(
      missing.map((k) => kv.get(k).then((e) => e?.operation === 'PUT')),
    );
    missing = missing.filter((_, i) => !found[i]);
    if (!missing.length) return;
    if (Date.now() > deadline) throw new Error(`${missing.length} tokens never projected`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
