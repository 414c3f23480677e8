import { encodeJson, LeanKv } from '@cb/nats';
import type { TokenDoc } from '@cb/schemas';
import { EventGenerator, loadFixtureWorkflow, waitFor } from '@cb/testing';
import {
  diffReadModels,
  expectedReadModels,
  readModels,
  startHarness,
  startWorker,
  waitCaughtUp,
  type Harness,
} from './testing/harness';
import type { ProjectionWorker } from './worker';
import { indexedIds } from './testing/indexes';

jest.setTimeout(120_000);

const workflows = (['document-review', 'order-processing', 'article-publishing'] as const).map(
  loadFixtureWorkflow,
);

describe('projection workers (in process, real NATS)', () => {
  let h: Harness;
  const workers: ProjectionWorker[] = [];

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await h?.dispose();
  });

  it('after 10,000 accepted random commands every read model equals the fold of the stream', async () => {
    const generator = new EventGenerator({
      store: h.store,
      naming: h.naming,
      workflows,
      seed: 42,
      tokens: 400,
      concurrency: 32,
    });
    await generator.defineWorkflows();
    const w1 = startWorker(h);
    const w2 = startWorker(h);
    workers.push(w1, w2);
    await Promise.all([w1.start(), w2.start()]);
    const result = await generator.runUntilEvents(10_000);
    expect(result.events).toBeGreaterThanOrEqual(10_000);
    await waitCaughtUp(h, 1);
    const expected = await expectedReadModels(h);
    expect(expected.tokens.size).toBeGreaterThan(300);
    expect(diffReadModels(await readModels(h, 1), expected)).toEqual([]);
  });

  it('a token moved draft → pending_review appears only in pending_review', async () => {
    const places = new LeanKv(h.infra.mux, h.naming.readModelBucket('places', 1));
    const tokens = new LeanKv(h.infra.mux, h.naming.readModelBucket('tokens', 1));
    const state = {
      id: 'moved-1',
      workflowId: 'document_review',
      definitionVersion: 1,
      place: 'draft',
      data: {},
      metadata: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      placeEnteredAt: '2026-01-01T00:00:00.000Z',
    };
    const subject = h.naming.tokenSubject('default', 'document_review', 'moved-1');
    const created = await h.store.append(
      subject,
      {
        type: 'token.created.v1',
        eventId: 'e-c',
        occurredAt: state.createdAt,
        workflowId: 'document_review',
        tokenId: 'moved-1',
        place: 'draft',
        state,
      },
      { expectedLastSubjectSeq: 0 },
    );
    const at = '2026-01-01T00:01:00.000Z';
    const moved = await h.store.append(
      subject,
      {
        type: 'token.transitioned.v1',
        eventId: 'e-t',
        occurredAt: at,
        workflowId: 'document_review',
        tokenId: 'moved-1',
        transition: 'submit',
        from: 'draft',
        to: 'pending_review',
        timeInPlaceMs: 60_000,
        toFinal: false,
        state: {
          ...state,
          place: 'pending_review',
          updatedAt: at,
          placeEnteredAt: at,
          lastTransition: { id: 'submit', from: 'draft', to: 'pending_review', at },
        },
      },
      { expectedLastSubjectSeq: created.seq },
    );
    await waitFor(
      async () =>
        (await tokens.get(h.naming.tokenKey('default', 'moved-1')))?.json<TokenDoc>()?.version ===
        moved.seq,
      { timeoutMs: 20_000 },
    );
    const listed = (place: string) =>
      indexedIds(places, h.naming, 'default', 'document_review', { kind: 'place', place });
    expect(await listed('draft')).not.toContain('moved-1');
    expect(await listed('pending_review')).toContain('moved-1');
  });

  it('dead-letters garbage on a token subject with a reason and keeps applying later events', async () => {
    const subject = h.naming.tokenSubject('default', 'document_review', 'garbage-1');
    const garbage = await h.infra.js.publish(subject, encodeJson({ hello: 'not an event' }));
    const raw = await h.infra.js.publish(
      h.naming.tokenSubject('default', 'order_processing', 'garbage-2'),
      new TextEncoder().encode('{{{'),
    );
    const generator = new EventGenerator({
      store: h.store,
      naming: h.naming,
      workflows,
      seed: 7,
      tokens: 50,
      concurrency: 8,
    });
    generator.adoptWorkflows();
    await generator.run(500);
    await waitCaughtUp(h, 1);
    const dlq = await h.jsm.streams.info(h.naming.deadLetterStream);
    expect(dlq.state.messages).toBe(2);
    const first = await h.jsm.direct.getMessage(h.naming.deadLetterStream, { seq: 1 });
    const second = await h.jsm.direct.getMessage(h.naming.deadLetterStream, { seq: 2 });
    const bySeq = new Map([first, second].map((m) => [Number(m?.header?.get('Cb-Dlq-Seq')), m]));
    expect(bySeq.get(garbage.seq)?.header?.get('Cb-Dlq-Reason')).toMatch(/not a valid event/);
    expect(bySeq.get(garbage.seq)?.header?.get('Cb-Dlq-Subject')).toBe(subject);
    expect(bySeq.get(raw.seq)?.header?.get('Cb-Dlq-Kind')).toBe('undecodable');
    expect(diffReadModels(await readModels(h, 1), await expectedReadModels(h))).toEqual([]);
  });
});
