/**
 * Read path: `GET /v1/tokens/:id` through the gateway at 32 in flight, beside raw KV gets of the
 * same keys at 32 in flight, measured in the same run on the same server:
 *
 * - the NATS KV client (`@nats-io/kv`, `kv.get`): what reading KV directly costs a user — the
 *   issue's baseline;
 * - our lean direct get (one inbox, no per-request timer or header map): the protocol's ceiling;
 * - a bare `node:http` server doing that one lean get per request: the least any Node HTTP front
 *   costs here, so how much of the gap to the ceiling is HTTP itself and how much is the gateway.
 *
 * Then, with no target, list pages of 50 from the place holding all 2,000 tokens: each client
 * pages through the whole listing and starts over, so one page in 40 scans the place index and
 * the others come from the listing's snapshot.
 */
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { LeanKv, RequestMux } from '@cb/nats';
import { DEFAULT_TENANT } from '@cb/subjects';
import {
  adminAuthorization,
  deploymentEnv,
  loadFixtureWorkflow,
  startServiceStack,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
} from '@cb/testing';
import { startBenchNats } from './bench-nats';
import { benchCredentials } from './credentials';
import { Errors } from './errors';
import { startHttpFloor, type HttpFloor } from './http-floor';
import { LeanConnection } from './lean-http';
import { alternating, closedLoop, pct, row, type Summary } from './stats';
import { createTokens, waitProjected } from './tokens';
import { authCost } from './write-path';

const CONCURRENCY = 32;
const TOKENS = 2000;
const LIST_LIMIT = 50;
const PROJECTED_TIMEOUT_MS = 60_000;

export interface ReadPathResult {
  kvClient: Summary;
  raw: Summary;
  httpFloor: Summary;
  /** As the root credential (not rate limited). */
  gateway: Summary;
  /** As a tenant API key (authenticated from the cache, then rate limited). */
  gatewayApiKey: Summary;
  listPages: Summary;
}

export async function benchReadPath(seconds: number): Promise<ReadPathResult> {
  const naming = uniqueNaming();
  const nats = await startBenchNats(naming);
  const services: ServiceProcess[] = [];
  const conns: LeanConnection[] = [];
  let floor: HttpFloor | undefined;
  try {
    const env = deploymentEnv(nats.url, naming);
    const stack = await startServiceStack(env, {
      projectionWorkers: 1,
      serviceEnv: nats.serviceEnv,
    });
    services.push(stack.command, ...stack.projections, stack.gateway!);
    const gatewayPort = stack.gatewayPort;
    const credentials = await benchCredentials(gatewayPort, adminAuthorization(env));
    for (let i = 0; i < CONCURRENCY; i++)
      conns.push(await LeanConnection.open('127.0.0.1', gatewayPort, credentials.root));

    const workflow = loadFixtureWorkflow('order-processing');
    const defined = await conns[0]!.request('POST', '/v1/workflows', JSON.stringify(workflow));
    if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);

    process.stdout.write(`creating ${TOKENS} tokens through the gateway… `);
    const ids = await createTokens(conns, workflow.id, TOKENS, (i) =>
      JSON.stringify({
        data: { customer: `customer-${i}`, items: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 5) }] },
        metadata: { team: ['blue', 'green', 'red'][i % 3], tier: i % 4 },
      }),
    );
    await waitProjected(conns[0]!, ids.last);
    console.log(`${ids.all.length} created and projected`);

    const bucket = naming.readModelBucket('tokens', 1);
    const keys = ids.all.map((id) => naming.tokenKey(DEFAULT_TENANT, id));
    const randomKey = (): string => keys[(Math.random() * keys.length) | 0]!;
    // As the gateway's NATS user: what a reader of the buckets may do.
    const nc = await connect(nats.as('gateway'));
    const mux = new RequestMux(nc);
    const kv = new LeanKv(mux, bucket);
    // Every token is in the bucket before anything is measured (not just the last one).
    await waitAllInBucket(kv, keys);

    // Baseline: the NATS KV client, as a user reading the bucket directly would.
    const kvClient = await measure('raw KV get, NATS KV client', seconds, async (errors) => {
      const client = await new Kvm(nc).open(bucket);
      return async () => isLivePut(await client.get(randomKey()), errors);
    });

    // Ceiling: lean direct gets over one request mux on the same connection.
    const raw = await measure(
      'raw KV get, lean direct get',
      seconds,
      async (errors) => async () => isLivePut(await kv.get(randomKey()), errors),
    );
    mux.close();
    await nc.close();

    // HTTP floor: a bare node:http server in its own process doing one lean get per request.
    floor = await startHttpFloor(nats.as('gateway'), bucket);
    const floorConns: LeanConnection[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      floorConns.push(await LeanConnection.open('127.0.0.1', floor.port));
    }
    conns.push(...floorConns);
    const httpFloor = await measure(
      'bare node:http + lean get',
      seconds,
      async (errors) => async (w) => {
        const res = await floorConns[w]!.request('GET', `/${randomKey()}`);
        return res.status === 200 || errors.add(`${res.status}`);
      },
    );
    await floor.stop();
    floor = undefined;

    const readToken =
      (on: LeanConnection[]) =>
      async (errors: Errors) =>
      async (w: number): Promise<boolean> => {
        const id = ids.all[(Math.random() * ids.all.length) | 0]!;
        const res = await on[w]!.request('GET', `/v1/tokens/${id}`);
        return res.status === 200 || errors.add(`${res.status} ${res.body.slice(0, 200)}`);
      };
    const keyConns: LeanConnection[] = [];
    for (let i = 0; i < CONCURRENCY; i++) {
      keyConns.push(await LeanConnection.open('127.0.0.1', gatewayPort, credentials.apiKey));
    }
    conns.push(...keyConns);
    const { a: gateway, b: gatewayApiKey } = await measurePair(
      ['GET /v1/tokens/:id, root credential', 'GET /v1/tokens/:id, API key + rate limit'],
      seconds,
      readToken(conns),
      readToken(keyConns),
    );
    console.log(authCost(gateway, gatewayApiKey));

    console.log(
      `gateway (API key) = ${pct(gatewayApiKey, kvClient)} of the NATS KV client (target ≥ 60 %; ` +
        `root ${pct(gateway, kvClient)}), ` +
        `${pct(gateway, raw)} of the lean direct get; bare node:http = ${pct(httpFloor, raw)} of it`,
    );

    // Lists (no target): each client pages through the whole place, 50 at a time, and starts
    // over at the end. Every page scans the place index, so this row shows what that costs.
    const cursors: Array<string | undefined> = conns.map(() => undefined);
    const base = `/v1/workflows/${workflow.id}/tokens?place=${workflow.initialPlace}&limit=${LIST_LIMIT}`;
    const listPages = await measure(
      `list page of ${LIST_LIMIT} (${TOKENS} in the place) via gateway`,
      seconds,
      async (errors) => async (w) => {
        const cursor = cursors[w];
        const res = await conns[w]!.request(
          'GET',
          cursor ? `${base}&cursor=${encodeURIComponent(cursor)}` : base,
        );
        if (res.status !== 200) return errors.add(`${res.status} ${res.body.slice(0, 200)}`);
        const page = JSON.parse(res.body) as { items: unknown[]; nextCursor?: string };
        cursors[w] = page.nextCursor;
        return page.items.length > 0 || errors.add('empty page');
      },
    );
    return { kvClient, raw, httpFloor, gateway, gatewayApiKey, listPages };
  } finally {
    for (const c of conns) c.close();
    await floor?.stop();
    await stopAll(services);
    await nats.dispose();
  }
}

/**
 * Warm up for 2 s, then measure `seconds` at 32 in flight; prints the row (and any errors, which
 * make the run invalid).
 */
async function measure(
  label: string,
  seconds: number,
  makeOp: (errors: Errors) => Promise<(worker: number) => Promise<boolean>>,
): Promise<Summary> {
  const errors = new Errors();
  const op = await makeOp(errors);
  const guarded = (w: number): Promise<boolean> =>
    op(w).catch((err: unknown) => errors.add(String(err)));
  await closedLoop(CONCURRENCY, 2, guarded);
  const warm = errors.total;
  const summary = await closedLoop(CONCURRENCY, seconds, guarded);
  console.log(row(`${label}, ${CONCURRENCY} in flight`, summary));
  errors.print(`${label} (${warm} in warm-up)`);
  return summary;
}

/**
 * Two variants of one workload: warmed up, then measured alternately (A B B A, `seconds` each in
 * all); prints both rows (and any errors, which make the run invalid).
 */
async function measurePair(
  labels: [string, string],
  seconds: number,
  makeA: (errors: Errors) => Promise<(worker: number) => Promise<boolean>>,
  makeB: (errors: Errors) => Promise<(worker: number) => Promise<boolean>>,
): Promise<{ a: Summary; b: Summary }> {
  const errors = [new Errors(), new Errors()] as const;
  const [a, b] = [await makeA(errors[0]), await makeB(errors[1])];
  const guard =
    (op: (w: number) => Promise<boolean>, e: Errors) =>
    (w: number): Promise<boolean> =>
      op(w).catch((err: unknown) => e.add(String(err)));
  const [ga, gb] = [guard(a, errors[0]), guard(b, errors[1])];
  await closedLoop(CONCURRENCY, 1, ga);
  await closedLoop(CONCURRENCY, 1, gb);
  const warm = [errors[0].total, errors[1].total];
  const result = await alternating(CONCURRENCY, 2 * seconds, ga, gb);
  console.log(row(`${labels[0]}, ${CONCURRENCY} in flight`, result.a));
  console.log(row(`${labels[1]}, ${CONCURRENCY} in flight`, result.b));
  errors[0].print(`${labels[0]} (${warm[0]} in warm-up)`);
  errors[1].print(`${labels[1]} (${warm[1]} in warm-up)`);
  return result;
}

/** A raw KV get found the token's document (not missing, not a tombstone). */
export function isLivePut(entry: { operation: string } | null, errors: Errors): boolean {
  if (entry === null) return errors.add('missing key');
  return entry.operation === 'PUT' || errors.add(`operation ${entry.operation}`);
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
