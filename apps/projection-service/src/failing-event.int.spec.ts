import { kvStreamName } from '@cb/subjects';
import type { TokenDoc, TokenEvent } from '@cb/schemas';
import { LeanKv, storedAt } from '@cb/nats';
import { waitFor } from '@cb/testing';
import { createProjectionMetrics } from './metrics';
import {
  TEST_SETTINGS,
  startHarness,
  startWorker,
  waitCaughtUp,
  type Harness,
} from './testing/harness';
import type { ProjectionWorker } from './worker';

jest.setTimeout(60_000);

const WF = 'document_review';
const T0 = '2026-01-01T00:00:00.000Z';

function created(id: string, data: Record<string, unknown> = {}): TokenEvent {
  const state = {
    id,
    workflowId: WF,
    definitionVersion: 1,
    place: 'draft',
    data,
    metadata: {},
    createdAt: T0,
    updatedAt: T0,
    placeEnteredAt: T0,
  };
  return {
    type: 'token.created.v1',
    eventId: `e-${id}`,
    occurredAt: T0,
    workflowId: WF,
    tokenId: id,
    place: 'draft',
    state,
  };
}

describe('a deterministic failure is still dead-lettered after PROJECTION_MAX_ATTEMPTS', () => {
  let h: Harness;
  let worker: ProjectionWorker;
  const metrics = createProjectionMetrics();

  beforeAll(async () => {
    h = await startHarness(1);
    worker = startWorker(h, { metrics });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await h?.dispose();
  });

  it('a token document the bucket cannot hold fails 3 times, is dead-lettered, and the partition goes on', async () => {
    // A value the read model cannot hold: the tokens bucket takes 2 KB per value, the event's
    // data alone is 4 KB. JetStream refuses the document the same way every time (10054).
    const bucket = kvStreamName(h.naming.readModelBucket('tokens', 1));
    const { config } = await h.jsm.streams.info(bucket);
    await h.jsm.streams.update(bucket, { ...config, max_msg_size: 2048 });
    const big = await h.store.append(
      h.naming.tokenSubject('default', WF, 'big-1'),
      created('big-1', { blob: 'x'.repeat(4096) }),
    );
    const after = await h.store.append(
      h.naming.tokenSubject('default', WF, 'small-1'),
      created('small-1'),
    );

    // Caught up: every event of the partition is applied or dead-lettered.
    await waitCaughtUp(h, 1, 30_000);
    const letter = await h.jsm.direct.getMessage(h.naming.deadLetterStream, { seq: 1 });
    expect(letter?.header?.get('Cb-Dlq-Kind')).toBe('failing');
    expect(letter?.header?.get('Cb-Dlq-Seq')).toBe(String(big.seq));
    expect(letter?.header?.get('Cb-Dlq-Reason')).toMatch(
      /^failed 3 times: JETSTREAM: message size exceeds maximum allowed/,
    );
    expect((await h.jsm.streams.info(h.naming.deadLetterStream)).state.messages).toBe(1);
    const tokens = new LeanKv(h.infra.mux, h.naming.readModelBucket('tokens', 1));
    expect(await tokens.get(h.naming.tokenKey('default', 'big-1'))).toBeNull();
    expect(
      (await tokens.get(h.naming.tokenKey('default', 'small-1')))?.json<TokenDoc>(),
    ).toMatchObject({ version: after.seq });
    // Exactly PROJECTION_MAX_ATTEMPTS failed attempts, all deterministic, none from an outage.
    const failures = (await metrics.failures.get()).values;
    expect(TEST_SETTINGS.maxAttempts).toBe(3);
    expect(failures).toEqual([{ labels: { item: '0', kind: 'deterministic' }, value: 3 }]);
  });
});

/** One sample of a metric of the worker's registry, by its labels; undefined if none. */
async function sample(
  metrics: ReturnType<typeof createProjectionMetrics>,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{
    labels: Record<string, unknown>;
    value: number;
  }>;
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    ?.value;
}

describe('a failing event holds its partition: the time-based lag tells how far behind it is', () => {
  let h: Harness;
  let worker: ProjectionWorker;
  const metrics = createProjectionMetrics();

  beforeAll(async () => {
    h = await startHarness(1);
    // A failing event holds its partition for the whole test (it is never dead-lettered).
    worker = startWorker(h, { metrics, settings: { ...TEST_SETTINGS, maxAttempts: 1000 } });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await h?.dispose();
  });

  it('gauges the time-based lag: the stream time of the last event against the last applied', async () => {
    const applied = await h.store.append(
      h.naming.tokenSubject('default', WF, 'ok-1'),
      created('ok-1'),
    );
    await waitCaughtUp(h, 1, 30_000);
    await waitFor(
      async () => (await sample(metrics, 'cb_projection_lag_seconds', { item: '0' })) === 0,
      {
        timeoutMs: 10_000,
        description: 'the lag gauge of partition 0 at 0',
      },
    );

    // A document the tokens bucket cannot hold fails every time: what follows it waits.
    const bucket = kvStreamName(h.naming.readModelBucket('tokens', 1));
    const { config } = await h.jsm.streams.info(bucket);
    await h.jsm.streams.update(bucket, { ...config, max_msg_size: 2048 });
    await h.store.append(
      h.naming.tokenSubject('default', WF, 'big-1'),
      created('big-1', { blob: 'x'.repeat(4096) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const last = await h.store.append(
      h.naming.tokenSubject('default', WF, 'small-1'),
      created('small-1'),
    );
    const at = async (seq: number): Promise<number> => storedAt((await h.store.at(seq))!)!;
    const behind = ((await at(last.seq)) - (await at(applied.seq))) / 1000;
    expect(behind).toBeGreaterThanOrEqual(0.6);

    const lag = await sample(metrics, 'cb_projection_lag_seconds', { item: '0' });
    expect(lag).toBeCloseTo(behind, 3);
    // The definitions are caught up (there are none).
    expect(await sample(metrics, 'cb_projection_lag_seconds', { item: 'definitions' })).toBe(0);
  });
});
