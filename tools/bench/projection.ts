/**
 * Projection drain: a 50,000-event backlog applied by one worker and by two (each a real
 * projection-service process), beside the raw durable consume+ack rate of the same backlog,
 * measured in the same run on the same server. Unlike the other benchmarks it runs on a server
 * without the NATS permissions: it switches the workers between read-model generations, and only
 * the admin's rebuild may create generations beyond the first.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import { EventStore, LeanKv, encodeJson, ensureInfrastructure } from '@cb/nats';
import type { PartitionWatermark } from '@cb/schemas';
import {
  EventGenerator,
  deploymentEnv,
  loadFixtureWorkflow,
  startProjectionWorker,
  startTestNats,
  stopAll,
  uniqueNaming,
  type ServiceProcess,
} from '@cb/testing';

const EVENTS = 50_000;

export async function benchProjection(): Promise<void> {
  const nats = await startTestNats();
  const naming = uniqueNaming();
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const nc = await connect({ servers: nats.url });
  const services: ServiceProcess[] = [];
  try {
    const infra = await ensureInfrastructure(
      nc,
      naming,
      { replicas: 1, duplicateWindowMs: 600_000 },
      logger,
    );
    const store = new EventStore(nc, infra.mux, naming.stream);
    const workflows = (
      ['document-review', 'order-processing', 'article-publishing', 'software-deployment'] as const
    ).map(loadFixtureWorkflow);
    const generator = new EventGenerator({
      store,
      naming,
      workflows,
      seed: 2026,
      tokens: 5000,
      concurrency: 64,
    });
    await generator.defineWorkflows();
    process.stdout.write(`writing a backlog of ${EVENTS} events… `);
    const written = await generator.runUntilEvents(EVENTS);
    const total = (await infra.jsm.streams.info(naming.stream)).state.messages;
    console.log(`${written.events} events (${total} messages in the stream)`);

    const raw = await rawConsumeAck(nats.url, naming.stream, total);
    console.log(
      `${'raw durable consume+ack, 1 consumer'.padEnd(44)} ${raw.toFixed(0).padStart(7)}/s`,
    );

    const projector = new LeanKv(infra.mux, naming.projectorBucket);
    const setGeneration = (generation: number) =>
      infra.meta.put(
        naming.readModelPointerKey,
        encodeJson({ generation, switchedAt: new Date().toISOString() }),
      );
    for (const workers of [1, 2]) {
      // Workers start on an empty generation first (no events reach it: its consumers are
      // created on the switch), share the leases, then all switch to a fresh generation at
      // once and drain the whole backlog from seq 1: the steady state of N workers.
      const idle = workers * 10;
      await setGeneration(idle);
      const started: ServiceProcess[] = [];
      for (let i = 0; i < workers; i++) {
        started.push(await startProjectionWorker(deploymentEnv(nats.url, naming)));
      }
      services.push(...started);
      await waitBalanced(projector, idle, workers);
      const generation = idle + 1;
      await setGeneration(generation);
      const rate = await measureDrain(projector, naming, generation, total);
      console.log(
        `${`projection drain, ${workers} worker${workers > 1 ? 's' : ''}`.padEnd(44)} ${rate.toFixed(0).padStart(7)}/s  (${((100 * rate) / raw).toFixed(1)} % of raw)`,
      );
      await stopAll(started);
    }
  } finally {
    await stopAll(services).catch(() => undefined);
    await nc.close();
    await nats.dispose();
  }

  async function measureDrain(
    projector: LeanKv,
    n: typeof naming,
    generation: number,
    expected: number,
  ): Promise<number> {
    // The sum over partitions of the applied watermark can't be counted directly; instead track
    // the events applied from the workers' own progress: watermark seq of every item vs the
    // last seq of its subjects, and time the span between the first and the last progress.
    const items: Array<number | 'definitions'> = [
      ...Array.from({ length: n.partitions }, (_, p) => p),
      'definitions',
    ];
    const lastOf = new Map<string, number>();
    for (const item of items) {
      const subject = item === 'definitions' ? n.allWorkflowsSubject : n.partitionFilter(item);
      const last = await store_last(subject);
      lastOf.set(String(item), last);
    }
    let first = 0;
    for (;;) {
      let done = true;
      let any = false;
      for (const item of items) {
        const mark =
          (await projector.get(n.watermarkKey(generation, item)))?.json<PartitionWatermark>()
            ?.seq ?? 0;
        if (mark > 0) any = true;
        if (mark < (lastOf.get(String(item)) ?? 0)) done = false;
      }
      if (any && first === 0) first = performance.now();
      if (done) return expected / ((performance.now() - first) / 1000);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every item of the generation is leased, and no worker holds more than its share. */
  async function waitBalanced(
    projector: LeanKv,
    generation: number,
    workers: number,
  ): Promise<void> {
    const share = Math.ceil((naming.partitions + 1) / workers);
    for (;;) {
      const owners = new Map<string, number>();
      let leased = 0;
      for (const item of [
        ...Array.from({ length: naming.partitions }, (_, p) => p),
        'definitions' as const,
      ]) {
        const entry = await projector.get(naming.leaseKey(generation, item));
        const e =
          entry?.operation === 'PUT'
            ? entry.json<{ owner: string; expiresAt: number }>()
            : undefined;
        if (e && e.expiresAt > Date.now()) {
          leased++;
          owners.set(e.owner, (owners.get(e.owner) ?? 0) + 1);
        }
      }
      if (
        leased === naming.partitions + 1 &&
        owners.size === workers &&
        [...owners.values()].every((n) => n <= share)
      )
        return;
      if (process.env.BENCH_DEBUG) console.log('waiting for balance', leased, [...owners.values()]);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function store_last(subject: string): Promise<number> {
    const infra2 = await jetstreamManager(nc);
    const m = await infra2.direct.getMessage(naming.stream, { last_by_subj: subject });
    return m?.seq ?? 0;
  }
}

/** Drain the whole stream with one durable explicit-ack consumer, acking every message. */
async function rawConsumeAck(url: string, stream: string, total: number): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, {
    durable_name: 'raw_bench',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 10_000,
  });
  const consumer = await jetstream(nc).consumers.get(stream, 'raw_bench');
  let count = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    void consumer.consume({
      max_messages: 1000,
      callback: (m) => {
        m.ack();
        if (++count === total) resolve();
      },
    });
  });
  const rate = total / ((performance.now() - started) / 1000);
  await jsm.consumers.delete(stream, 'raw_bench');
  await nc.close();
  return rate;
}
