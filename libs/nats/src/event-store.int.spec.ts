import { createLogger } from '@cb/logging';
import type { CbEvent, TokenEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { uniqueNaming, useTestNats } from '@cb/testing';
import { encodeJson } from './codec';
import { decodeEvent } from './event-codec';
import { EventStore, storedAt } from './event-store';
import { NatsPlatformError } from './errors';
import { ensureInfrastructure, type Infrastructure } from './infrastructure';
import { messageHeaders, readsRawHeaders } from './header-block';
import { LeanKv } from './lean-kv';
import { isDefinitionEvent, isTokenEvent, lastValidEvent, validEventsOn } from './last-valid-event';

const logger = createLogger({ service: 'test', level: 'silent' });

const nats = useTestNats();
let naming: Naming;
let store: EventStore;
let infra: Infrastructure;

beforeAll(async () => {
  naming = uniqueNaming();
  infra = await ensureInfrastructure(
    nats.nc,
    naming,
    { replicas: 1, duplicateWindowMs: 60_000 },
    logger,
  );
  store = new EventStore(nats.nc, infra.mux, naming.stream);
});

describe('EventStore', () => {
  it("reads from the stream's leader the same as with direct gets (strong reads)", async () => {
    const leader = new EventStore(nats.nc, infra.mux, naming.stream, { reads: 'leader' });
    const subject = naming.tokenSubject('strong', 'wf', 'lead-1');
    const a = await store.append(subject, { n: 1 });
    const b = await store.append(subject, { n: 2 });
    const last = await leader.last(subject);
    expect({ seq: last?.seq, subject: last?.subject, json: last?.json() }).toEqual({
      seq: b.seq,
      subject,
      json: { n: 2 },
    });
    expect((await leader.at(a.seq))?.json()).toEqual({ n: 1 });
    expect((await leader.nextOnSubject(subject, a.seq + 1))?.seq).toBe(b.seq);
    expect(await leader.nextOnSubject(subject, b.seq + 1)).toBeNull();
    expect(await leader.last(naming.tokenSubject('strong', 'wf', 'none'))).toBeNull();
    // The stream time comes with it, as a direct get's Nats-Time-Stamp does.
    expect(storedAt(last!)).toBe(storedAt((await store.last(subject))!));
  });

  it('tells the time-based lag of a reader: the last message on a filter against the last one applied', async () => {
    const filter = naming.workflowTokensFilter('lagging', 'wf');
    expect(await store.lagSeconds(filter, 0)).toBe(0); // nothing on the filter
    const seqs: number[] = [];
    for (const id of ['lag-1', 'lag-2', 'lag-3']) {
      seqs.push((await store.append(naming.tokenSubject('lagging', 'wf', id), { id })).seq);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // Another filter's later message changes nothing.
    await store.append(naming.tokenSubject('other', 'wf', 'lag-4'), { id: 'lag-4' });
    const at = async (seq: number): Promise<number> => storedAt((await store.at(seq))!)!;
    const [t1, t2, t3] = [await at(seqs[0]!), await at(seqs[1]!), await at(seqs[2]!)];
    expect(t3 - t1).toBeGreaterThanOrEqual(300);

    // Nothing applied: measured from the first message on the filter.
    expect(await store.lagSeconds(filter, 0)).toBeCloseTo((t3 - t1) / 1000, 3);
    expect(await store.lagSeconds(filter, seqs[0]!)).toBeCloseTo((t3 - t1) / 1000, 3);
    expect(await store.lagSeconds(filter, seqs[1]!)).toBeCloseTo((t3 - t2) / 1000, 3);
    expect(await store.lagSeconds(filter, seqs[2]!)).toBe(0);
    expect(await store.lagSeconds(filter, seqs[2]! + 1)).toBe(0);
  });

  it('appends with an expected last subject sequence and maps 10071 to WRONG_LAST_SEQUENCE', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-a');
    const first = await store.append(subject, { n: 1 }, { expectedLastSubjectSeq: 0 });
    expect(first.duplicate).toBe(false);
    const stale = await store
      .append(subject, { n: 2 }, { expectedLastSubjectSeq: 0 })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(NatsPlatformError);
    expect((stale as NatsPlatformError).code).toBe('WRONG_LAST_SEQUENCE');
    const second = await store.append(subject, { n: 2 }, { expectedLastSubjectSeq: first.seq });
    expect(second.seq).toBeGreaterThan(first.seq);
  });

  it('de-duplicates by msg id even when the expectation is stale, returning the original seq', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-b');
    const first = await store.append(
      subject,
      { n: 1 },
      { expectedLastSubjectSeq: 0, msgId: 'k-1' },
    );
    const retry = await store.append(
      subject,
      { n: 1 },
      { expectedLastSubjectSeq: 0, msgId: 'k-1' },
    );
    expect(retry).toEqual({ seq: first.seq, duplicate: true });
  });

  it('reads the last message, a message by seq and a subject in order; null when absent', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-c');
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++)
      seqs.push(
        (await store.append(subject, { i }, { headers: { 'Cb-Request-Id': `r${i}` } })).seq,
      );
    const last = await store.last(subject);
    expect(last?.seq).toBe(seqs[2]);
    expect(last?.header?.get('Cb-Request-Id')).toBe('r2');
    expect((await store.at(seqs[0]!))?.json()).toEqual({ i: 0 });
    const all: number[] = [];
    for await (const m of store.allOnSubject(subject)) all.push(m.seq);
    expect(all).toEqual(seqs);
    expect(await store.last(naming.tokenSubject('default', 'wf', 'nobody'))).toBeNull();
    expect(await store.at(999_999)).toBeNull();
    expect((await store.last(naming.tokenSubjectAnyWorkflow('default', 'tok-c')))?.seq).toBe(
      seqs[2],
    );
  });

  it('reads headers from the raw bytes nats.js keeps (a nats.js upgrade that moves them fails here)', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-raw');
    await store.append(subject, { n: 1 }, { headers: { 'Cb-Request-Id': 'raw-1' } });
    const reply = await infra.mux.request(
      `$JS.API.DIRECT.GET.${naming.stream}.${subject}`,
      new Uint8Array(0),
      5000,
    );
    expect(readsRawHeaders(reply)).toBe(true);
    const lean = messageHeaders(reply);
    expect(lean?.get('Cb-Request-Id')).toBe('raw-1');
    expect(lean?.get('Nats-Subject')).toBe(reply.headers?.get('Nats-Subject'));
    expect(lean?.get('Nats-Sequence')).toBe(reply.headers?.get('Nats-Sequence'));
  });

  it('reads KV entries and their tombstones by key', async () => {
    const bucket = `${naming.prefix}-lean-kv-test`;
    await infra.kvm.create(bucket, { history: 1, allow_direct: true });
    const kv = new LeanKv(infra.mux, bucket);
    const revision = await kv.put('a.b', { v: 1 });
    const entry = await kv.get('a.b');
    expect(entry).toMatchObject({ key: 'a.b', revision, operation: 'PUT' });
    expect(entry?.json()).toEqual({ v: 1 });
    await kv.delete('a.b');
    expect((await kv.get('a.b'))?.operation).toBe('DEL');
    expect(await kv.get('missing')).toBeNull();
  });

  it('refuses an event larger than the server accepts before publishing it', async () => {
    const big = { blob: 'x'.repeat(2 * 1024 * 1024) };
    const error = await store
      .append(naming.tokenSubject('default', 'wf', 'tok-big'), big)
      .catch((e: unknown) => e);
    expect((error as NatsPlatformError).code).toBe('MAX_PAYLOAD');
  });
});

describe('decodeEvent', () => {
  it('gives a reason for garbage instead of throwing', () => {
    expect(decodeEvent(new Uint8Array())).toEqual({
      ok: false,
      failure: 'undecodable',
      reason: 'empty payload',
    });
    expect(decodeEvent(new TextEncoder().encode('{nope'))).toEqual({
      ok: false,
      failure: 'undecodable',
      reason: 'payload is not JSON',
    });
    const invalid = decodeEvent(encodeJson({ type: 'token.created.v1' }));
    expect(invalid.ok).toBe(false);
    expect(!invalid.ok && invalid.failure).toBe('invalid');
    expect(!invalid.ok && invalid.reason).toMatch(/not a valid event/);
  });
});

const T = '2024-05-01T10:00:00.000Z';

function updated(tokenId: string, n: number): TokenEvent {
  const event = {
    type: 'token.updated.v1',
    eventId: `e-${tokenId}-${n}`,
    occurredAt: T,
    workflowId: 'wf',
    tokenId,
    state: {
      id: tokenId,
      workflowId: 'wf',
      definitionVersion: 1,
      place: 'open',
      data: { n },
      metadata: {},
      createdAt: T,
      updatedAt: T,
      placeEnteredAt: T,
    },
  } satisfies TokenEvent;
  expect(decodeEvent(new TextEncoder().encode(JSON.stringify(event))).ok).toBe(true);
  return event;
}

async function publish(subject: string, payload: unknown): Promise<number> {
  return (await store.append(subject, payload)).seq;
}

describe('lastValidEvent', () => {
  it('a subject without messages has neither a last message nor an event', async () => {
    const found = await lastValidEvent(
      store,
      naming.tokenSubject('default', 'wf', 'none'),
      isTokenEvent,
    );
    expect(found).toEqual({ last: null, message: null, event: null });
  });

  it('the last message when it is a valid event of the kind (nothing skipped)', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'plain');
    await publish(subject, updated('plain', 1));
    const seq = await publish(subject, updated('plain', 2));
    const found = await lastValidEvent(store, subject, isTokenEvent);
    expect(found.skipped).toBeUndefined();
    expect(found.last?.seq).toBe(seq);
    expect(found.message?.seq).toBe(seq);
    expect((found.event as TokenEvent).state.data).toEqual({ n: 2 });
  });

  it('passes over garbage and events of another kind at the end, keeping the real last message', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'dirty');
    const valid = await publish(subject, updated('dirty', 1));
    await publish(subject, { not: 'an event' });
    const definition = { type: 'workflow.defined.v1' } as unknown as CbEvent;
    const second = await publish(subject, updated('dirty', 2));
    const garbage = await publish(subject, { garbage: true });
    const found = await lastValidEvent(store, subject, isTokenEvent);
    expect(found.last?.seq).toBe(garbage);
    expect(found.skipped).toMatch(/not a valid event/);
    expect(found.message?.seq).toBe(second);
    expect((found.event as TokenEvent).state.data).toEqual({ n: 2 });
    expect(valid).toBeLessThan(second);
    expect(isDefinitionEvent(definition)).toBe(true);
    expect(isTokenEvent(definition)).toBe(false);
  });

  it('nothing valid at all: the last message, and no event', async () => {
    const subject = naming.workflowSubject('default', 'only-garbage');
    const garbage = await publish(subject, 'nope');
    const found = await lastValidEvent(store, subject, isDefinitionEvent);
    expect(found.last?.seq).toBe(garbage);
    expect(found.skipped).toBeDefined();
    expect(found.message).toBeNull();
    expect(found.event).toBeNull();
  });

  it('an event of another kind at the end is named as skipped', async () => {
    const subject = naming.workflowSubject('default', 'foreign');
    await publish(subject, updated('foreign', 1));
    const found = await lastValidEvent(store, subject, isDefinitionEvent);
    expect(found.skipped).toBe('a token.updated.v1 event');
    expect(found.event).toBeNull();
  });
});

describe('validEventsOn', () => {
  it('yields the valid events of the kind in stream order', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'many');
    const a = await publish(subject, updated('many', 1));
    await publish(subject, new Uint8Array());
    const b = await publish(subject, updated('many', 2));
    const seen: number[] = [];
    for await (const { message } of validEventsOn(store, subject, isTokenEvent)) {
      seen.push(message.seq);
    }
    expect(seen).toEqual([a, b]);
  });
});
