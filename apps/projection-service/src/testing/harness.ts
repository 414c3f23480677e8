import { type JetStreamClient, type JetStreamManager, DeliverPolicy } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { foldReadModels, type FoldedReadModels } from '@cb/domain';
import { createLogger } from '@cb/logging';
import {
  EventStore,
  LeanKv,
  decodeEvent,
  decodeJson,
  ensureInfrastructure,
  type Infrastructure,
} from '@cb/nats';
import type { CbEvent, PartitionWatermark, ReadModelPointer, TokenDoc } from '@cb/schemas';
import { kvStreamName, type Naming } from '@cb/subjects';
import { readBucket, startTestNats, uniqueNaming, waitFor, type TestNats } from '@cb/testing';
import { createProjectionMetrics } from '../metrics';
import { projectorDeps } from '../connect';
import { placeEntriesOf } from './indexes';
import type { ProjectorDeps, ProjectorSettings } from '../projector';
import { ProjectionWorker } from '../worker';

export const TEST_SETTINGS: ProjectorSettings = {
  batchSize: 200,
  leaseTtlMs: 5000,
  ackWaitMs: 500,
  maxAttempts: 3,
  replicas: 1,
};

export interface Harness {
  nats: TestNats;
  nc: NatsConnection;
  naming: Naming;
  infra: Infrastructure;
  js: JetStreamClient;
  jsm: JetStreamManager;
  store: EventStore;
  projectorKv: KV;
  deps(overrides?: Partial<ProjectorDeps>): ProjectorDeps;
  dispose(): Promise<void>;
}

export const silent = createLogger({ service: 'test', level: 'silent' });

export async function startHarness(partitions = 8): Promise<Harness> {
  const nats = await startTestNats();
  const nc = await connect({ servers: nats.url });
  const naming = uniqueNaming(partitions);
  const infra = await ensureInfrastructure(
    nc,
    naming,
    { replicas: 1, duplicateWindowMs: 60_000 },
    silent,
  );
  const projectorKv = await infra.kvm.create(naming.projectorBucket, { history: 1 });
  const base = await projectorDeps(nc, infra, naming, projectorKv, {
    logger: silent,
    workerId: 'w0',
    settings: TEST_SETTINGS,
  });
  const { js, jsm } = base;
  let workers = 0;
  return {
    nats,
    nc,
    naming,
    infra,
    js,
    jsm,
    store: new EventStore(nc, infra.mux, naming.stream),
    projectorKv,
    // Each worker gets its own metrics registry and event store reader.
    deps: (overrides = {}) => ({
      ...base,
      store: new EventStore(nc, infra.mux, naming.stream),
      metrics: createProjectionMetrics(),
      workerId: `w${++workers}`,
      ...overrides,
    }),
    async dispose() {
      await nc.close();
      await nats.dispose();
    },
  };
}

export function startWorker(h: Harness, overrides: Partial<ProjectorDeps> = {}): ProjectionWorker {
  const worker = new ProjectionWorker(h.deps(overrides), h.infra.meta, h.naming, silent);
  return worker;
}

export async function generation(h: Harness): Promise<number> {
  const entry = await h.infra.meta.get(h.naming.readModelPointerKey);
  return entry ? (decodeJson(entry.value) as ReadModelPointer).generation : 1;
}

/** Every event in the stream, decoded (garbage left out), in order. */
export async function allEvents(
  h: Harness,
): Promise<Array<{ seq: number; event: CbEvent; tenant: string }>> {
  const out: Array<{ seq: number; event: CbEvent; tenant: string }> = [];
  const info = await h.jsm.streams.info(h.naming.stream);
  if (info.state.messages === 0) return out;
  const consumer = await h.js.consumers.get(h.naming.stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  for await (const m of messages) {
    const d = decodeEvent(m.data);
    const tenant =
      h.naming.parseTokenSubject(m.subject)?.tenant ??
      h.naming.parseWorkflowSubject(m.subject)?.tenant;
    if (d.ok && tenant !== undefined) out.push({ seq: m.seq, event: d.event, tenant });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return out;
}

/** Resolve when every partition's watermark covers its last event (and the definitions'). */
export async function waitCaughtUp(h: Harness, gen: number, timeoutMs = 60_000): Promise<void> {
  const projector = new LeanKv(h.infra.mux, h.naming.projectorBucket);
  const items: Array<number | 'definitions'> = [
    ...Array.from({ length: h.naming.partitions }, (_, p) => p),
    'definitions',
  ];
  await waitFor(
    async () => {
      for (const item of items) {
        const subject =
          item === 'definitions' ? h.naming.allWorkflowsSubject : h.naming.partitionFilter(item);
        const last = await h.store.last(subject);
        if (last === null) continue;
        const mark = await projector.get(h.naming.watermarkKey(gen, item));
        const seq = mark?.json<PartitionWatermark>()?.seq ?? 0;
        if (seq < last.seq) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 200, description: `read models of generation ${gen} to catch up` },
  );
}

export interface ReadModelContents {
  tokens: Map<string, unknown>;
  places: Map<string, unknown>;
  stats: Map<string, unknown>;
  workflows: Map<string, unknown>;
}

export async function readModels(h: Harness, gen: number): Promise<ReadModelContents> {
  const read = (kind: 'tokens' | 'places' | 'stats' | 'workflows') =>
    readBucket(h.js, h.jsm, h.naming.readModelBucket(kind, gen));
  const tokens = await read('tokens');
  return {
    tokens,
    places: placeEntriesOf(await read('places'), tokens),
    stats: await read('stats'),
    workflows: await read('workflows'),
  };
}

/**
 * The reference fold, with each live token also in its workflow's whole list
 * (`<tenant>.<workflow>.*.<token>`, as `placeEntriesOf` reads the indexes).
 */
export async function expectedReadModels(h: Harness): Promise<FoldedReadModels> {
  const fold = foldReadModels(await allEvents(h), (tokenId) => h.naming.tokenPartition(tokenId));
  for (const [key, entry] of [...fold.places]) {
    const [tenant, workflowId, , tokenId] = key.split('.');
    fold.places.set(`${tenant}.${workflowId}.*.${tokenId}`, entry);
  }
  return fold;
}

/** Differences between what KV holds and the fold, as readable lines (empty = equal). */
export function diffReadModels(
  actual: ReadModelContents,
  expected: FoldedReadModels,
  limit = 10,
): string[] {
  const out: string[] = [];
  for (const kind of ['tokens', 'places', 'stats', 'workflows'] as const) {
    const a = actual[kind];
    const e = expected[kind] as Map<string, unknown>;
    for (const [key, value] of e) {
      if (!a.has(key)) out.push(`${kind}: missing ${key}`);
      else if (JSON.stringify(sortKeys(a.get(key))) !== JSON.stringify(sortKeys(value))) {
        out.push(
          `${kind}: ${key} differs: kv=${JSON.stringify(a.get(key)).slice(0, 300)} fold=${JSON.stringify(value).slice(0, 300)}`,
        );
      }
    }
    for (const key of a.keys()) if (!e.has(key)) out.push(`${kind}: unexpected ${key}`);
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * For a failed comparison: each differing token's events, its document and the index entries
 * KV holds for it, so a flaky failure can be read from the log.
 */
export async function explainDiff(
  h: Harness,
  actual: ReadModelContents,
  diff: string[],
): Promise<string> {
  const ids = new Set<string>();
  for (const line of diff) {
    const key = /^(?:places|tokens): (?:unexpected|missing) (\S+)/.exec(line)?.[1];
    if (key) ids.add(key.split('.').at(-1)!);
  }
  if (ids.size === 0) return diff.join('\n');
  const events = await allEvents(h);
  const out = [...diff];
  const tokens = new LeanKv(h.infra.mux, h.naming.readModelBucket('tokens', 1));
  const kvTime = async (bucket: string, seq: number | undefined): Promise<string> => {
    if (seq === undefined) return '';
    const m = await h.jsm.streams.getMessage(kvStreamName(bucket), { seq }).catch(() => null);
    return m ? m.time.toISOString() : '';
  };
  for (const id of ids) {
    out.push(`token ${id} (partition ${h.naming.tokenPartition(id)}):`);
    for (const { seq, event } of events) {
      if (event.type === 'workflow.defined.v1' || event.tokenId !== id) continue;
      const move = event.type === 'token.transitioned.v1' ? ` ${event.from}->${event.to}` : '';
      const m = await h.jsm.streams.getMessage(h.naming.stream, { seq }).catch(() => null);
      out.push(
        `  event ${seq} ${m?.time.toISOString()} ${event.type}${move} place=${event.state.place}`,
      );
    }
    const doc = await tokens.get(h.naming.tokenKey('default', id));
    const tokensBucket = h.naming.readModelBucket('tokens', 1);
    out.push(
      `  doc rev=${doc?.revision} ${await kvTime(tokensBucket, doc?.revision)} version=${doc?.json<TokenDoc>()?.version}`,
    );
    for (const key of actual.places.keys()) {
      if (key.endsWith(`.${id}`)) out.push(`  indexed as ${key}`);
    }
  }
  return out.join('\n');
}
