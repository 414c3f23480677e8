/**
 * The stack as users run it (`npm start`: see `launchStack`), measured through the public REST
 * API as a tenant API key, beside raw NATS on the same nats-server in the same run:
 *
 * - fires of the document-review fixture at 32 in flight, between two runs of raw
 *   expected-sequence publishes (A B A); then how long until every fired token reads fresh with
 *   `minSeq` (the projections caught up);
 * - `GET /v1/tokens/:id` and a list page of one place while the projection workers run, each
 *   between runs of raw KV gets of the same tokens;
 * - for each, CPU milliseconds per 1,000 operations of every process of the stack, read from
 *   /proc (the load generator's own too: it shares the two cores).
 */
import { DEFAULT_TENANT } from '@cb/subjects';
import { benchCredentials, BENCH_RATE_LIMIT } from './credentials';
import { defineDocumentReview, documentBody, fireNext, type LoopedToken } from './document-review';
import { Errors } from './errors';
import { HttpClient } from './http-client';
import { withLaunchedStack, type LaunchedStack } from './launched-stack';
import { LeanConnection } from './lean-http';
import { cpuLine, cpuMeter, type CpuCost } from './process-cpu';
import { getPage, openRawTokenGets } from './stack-reads';
import { closedLoop, pct, row, type Summary } from './stats';
import { createTokens, waitProjected } from './tokens';
import { rawExpectedSeqPublish } from './write-path';

const CONCURRENCY = 32;
/** Tokens the reads pick from by default (the first 32 are also the ones fired). */
const READ_SET = 1000;
const WORKFLOW = 'document_review';
const LIST_LIMIT = 50;

export interface StackResult {
  fires: Summary;
  /** Raw expected-seq publishes before and after the fires. */
  rawPublish: Summary[];
  /** Seconds from the last fire's answer until every fired token read fresh with `minSeq`. */
  caughtUpSeconds: number;
  gets: Summary;
  listPages: Summary;
  /** Raw KV gets before the GETs, between the GETs and the lists, after the lists. */
  rawGets: Summary[];
  cpu: Record<'fires' | 'gets' | 'listPages', CpuCost[]>;
  /** Failed operations in all (any makes the run invalid and sets process.exitCode). */
  errors: number;
}

export function benchStack(seconds: number): Promise<StackResult> {
  return withLaunchedStack((stack) => runStackBench(stack, seconds));
}

/** The stack benchmark on a stack that is up; `seconds` per measurement. */
export async function runStackBench(
  stack: LaunchedStack,
  seconds: number,
  /** Tokens created for the reads (at least 32 + a page; fewer make a quicker smoke run). */
  readSet = READ_SET,
): Promise<StackResult> {
  const processes = stack.processes();
  console.log(`stack: ${processes.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
  console.log(await rateLimitNote(stack));
  const credentials = await benchCredentials(stack.gatewayPort, {
    authorization: stack.rootAuthorization,
  });
  const conns: LeanConnection[] = [];
  let closeRaw: (() => Promise<void>) | undefined;
  const errors = {
    fires: new Errors(),
    gets: new Errors(),
    lists: new Errors(),
    raw: new Errors(),
  };
  try {
    for (let i = 0; i < CONCURRENCY; i++) {
      conns.push(await LeanConnection.open('127.0.0.1', stack.gatewayPort, credentials.apiKey));
    }
    const defined = await defineDocumentReview(conns[0]!, WORKFLOW);
    if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);
    const created = await createTokens(conns, WORKFLOW, readSet, documentBody);
    await waitProjected(conns[0]!, created.last);
    // One token per worker, so no two fires race on a token.
    const fired: LoopedToken[] = created.all
      .slice(0, CONCURRENCY)
      .map((id) => ({ workflowId: WORKFLOW, id, step: 0, version: 0 }));
    const fire = errors.fires.guard(async (w: number) => {
      const res = await fireNext(conns[w]!, fired[w]!);
      return res.ok || errors.fires.add(`${res.status} ${res.body.slice(0, 200)}`);
    });

    // Warm up (JIT, connections, the limiter's first lease), then raw, ours, raw (A B A).
    await closedLoop(CONCURRENCY, 2, fire);
    const warmFires = errors.fires.total;
    const rawPublish = [await rawExpectedSeqPublish(stack.natsAs('admin'), seconds / 2)];
    const fireCpu = cpuMeter(processes);
    const fires = await closedLoop(CONCURRENCY, seconds, fire);
    const lastFire = performance.now();
    await Promise.all(fired.map((t, w) => waitProjected(conns[w]!, t)));
    const caughtUpSeconds = (performance.now() - lastFire) / 1000;
    const cpuFires = fireCpu(fires.count);
    rawPublish.push(await rawExpectedSeqPublish(stack.natsAs('admin'), seconds / 2));

    // Reads while the projection workers run, each between raw KV gets of the same tokens.
    const raw = await openRawTokenGets(stack, created.all, errors.raw);
    closeRaw = raw.close;
    const rawGet = raw.op;
    const get = errors.gets.guard(async (w: number) => {
      const id = created.all[(Math.random() * created.all.length) | 0]!;
      const res = await conns[w]!.request('GET', `/v1/tokens/${id}`);
      return res.status === 200 || errors.gets.add(`${res.status} ${res.body.slice(0, 200)}`);
    });
    const listPath = `/v1/workflows/${WORKFLOW}/tokens?place=draft&limit=${LIST_LIMIT}`;
    const list = errors.lists.guard(async (w: number) => {
      const page = await getPage(conns[w]!, listPath, errors.lists);
      if (!page) return false;
      return page.items.length === LIST_LIMIT || errors.lists.add(`${page.items.length} items`);
    });
    for (const op of [rawGet, get, list]) await closedLoop(CONCURRENCY, 1, op);
    const warmReads = errors.gets.total + errors.lists.total + errors.raw.total;
    const rawGets = [await closedLoop(CONCURRENCY, seconds / 2, rawGet)];
    const getCpu = cpuMeter(processes);
    const gets = await closedLoop(CONCURRENCY, seconds, get);
    const cpuGets = getCpu(gets.count);
    rawGets.push(await closedLoop(CONCURRENCY, seconds / 2, rawGet));
    const listCpu = cpuMeter(processes);
    const listPages = await closedLoop(CONCURRENCY, seconds, list);
    const cpuLists = listCpu(listPages.count);
    rawGets.push(await closedLoop(CONCURRENCY, seconds / 2, rawGet));

    const publishBoth = merged(rawPublish);
    const getBaseline = merged(rawGets.slice(0, 2));
    const listBaseline = merged(rawGets.slice(1));
    console.log(
      [
        `\nfull stack as npm start runs it, tenant API key, ${CONCURRENCY} in flight, ` +
          `document-review with ~300 B of data, ${seconds} s each (raw NATS on its server, same run)`,
        row('fire via gateway', fires, publishBoth),
        row('  raw expected-seq publish, before', rawPublish[0]!),
        row('  raw expected-seq publish, after', rawPublish[1]!),
        `  projections caught up ${caughtUpSeconds.toFixed(2)} s after the last fire ` +
          `(all ${CONCURRENCY} fired tokens read fresh with minSeq)`,
        cpuLine('fires (until caught up)', cpuFires),
        row('GET /v1/tokens/:id', gets, getBaseline),
        row(
          `list page of ${LIST_LIMIT} (${readSet - CONCURRENCY}+ in the place)`,
          listPages,
          listBaseline,
        ),
        row('  raw KV get (NATS KV client), before the GETs', rawGets[0]!),
        row('  raw KV get, between', rawGets[1]!),
        row('  raw KV get, after the lists', rawGets[2]!),
        cpuLine('GETs', cpuGets),
        cpuLine('list pages', cpuLists),
        targets(fires, publishBoth, caughtUpSeconds, gets, getBaseline),
      ].join('\n'),
    );
    errors.fires.print(`fire (${warmFires} in warm-up)`);
    errors.gets.print(`GET (reads' warm-up: ${warmReads})`);
    errors.lists.print('list page');
    errors.raw.print('raw KV get');
    return {
      fires,
      rawPublish,
      caughtUpSeconds,
      gets,
      listPages,
      rawGets,
      cpu: { fires: cpuFires, gets: cpuGets, listPages: cpuLists },
      errors: Object.values(errors).reduce((t, e) => t + e.total, 0),
    };
  } finally {
    for (const c of conns) c.close();
    await closeRaw?.();
  }
}

/** Runs of one loop taken as one: their operations over their seconds (latencies not merged). */
function merged(runs: Summary[]): Summary {
  const count = runs.reduce((t, r) => t + r.count, 0);
  const seconds = runs.reduce((t, r) => t + r.seconds, 0);
  return { ...runs[0]!, count, seconds, rate: count / seconds };
}

/** Issue 14's targets for these rows, each said met or missed. */
function targets(
  fires: Summary,
  publish: Summary,
  caughtUp: number,
  gets: Summary,
  kvGets: Summary,
): string {
  const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
  const fireShare = fires.rate / publish.rate;
  const getShare = gets.rate / kvGets.rate;
  return [
    'targets (issue 14, 2 cores):',
    `  fires ≥ 30 % of raw publishes with p99 ≤ 25 ms: ${pct(fires, publish)}, p99 ` +
      `${fires.p99.toFixed(1)} ms — ${verdict(fireShare >= 0.3 && fires.p99 <= 25)}`,
    `  caught up ≤ 1 s after the last fire: ${caughtUp.toFixed(2)} s — ${verdict(caughtUp <= 1)}`,
    `  GET ≥ 60 % of raw KV gets with p99 ≤ 20 ms: ${pct(gets, kvGets)}, p99 ` +
      `${gets.p99.toFixed(1)} ms — ${verdict(getShare >= 0.6 && gets.p99 <= 20)}`,
  ].join('\n');
}

/**
 * What a key without a limit of its own is allowed (the gateway's default), and how the bench's
 * key gets past it: its creator sets `rateLimit` in `POST /v1/admin/keys`. The limiter still
 * runs on every request of the bench.
 */
async function rateLimitNote(stack: LaunchedStack): Promise<string> {
  const http = new HttpClient(new URL(stack.gateway), 1, {
    authorization: stack.rootAuthorization,
  });
  try {
    const created = await http.send('POST', '/v1/admin/keys', {
      tenant: DEFAULT_TENANT,
      name: 'bench-default-limit',
      scopes: ['read'],
    });
    if (created.status !== 201) {
      throw new Error(`creating a key: ${created.status} ${created.body}`);
    }
    const { key } = JSON.parse(created.body) as { key: string };
    const res = await http.send('GET', '/v1/workflows', undefined, {
      authorization: `Bearer ${key}`,
    });
    const limit = String(res.headers['ratelimit-limit'] ?? 'none');
    return (
      `rate limits: a key without its own limit gets RateLimit-Limit ${limit} per window ` +
      `(RATE_LIMIT_REQUESTS/RATE_LIMIT_WINDOW_S) — ${CONCURRENCY} in flight would be refused ` +
      `with 429 within a second or two; the bench's key is created with rateLimit ` +
      `${JSON.stringify(BENCH_RATE_LIMIT)} (POST /v1/admin/keys), so every request is still ` +
      'counted by the limiter but none is refused'
    );
  } finally {
    http.close();
  }
}
