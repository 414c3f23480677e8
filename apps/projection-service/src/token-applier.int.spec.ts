import type { JsMsg } from '@nats-io/jetstream';
import { encodeJson } from '@cb/nats';
import type { TokenDoc, TokenEvent } from '@cb/schemas';
import { NotYetError, type DecodedTokenEvent } from './batch';
import { ensureReadModels, type ReadModels } from './read-models';
import { DeadLetters } from './dead-letters';
import { createProjectionMetrics } from './metrics';
import { silent, startHarness, type Harness } from './testing/harness';
import { indexedIds } from './testing/indexes';
import { LeaseLostError, TokenApplier } from './token-applier';

const WF = 'document_review';
const TOKEN = 'stale-1';
const T0 = '2026-01-01T00:00:00.000Z';

let h: Harness;
let models: ReadModels;
let deadLetters: DeadLetters;

beforeAll(async () => {
  h = await startHarness();
  models = await ensureReadModels(h.infra.kvm, h.infra.mux, h.naming, 1, 1);
  deadLetters = new DeadLetters(h.infra.mux, h.naming, 'test', createProjectionMetrics(), silent);
});

/** An applier of the token's partition whose lease holds while `mayWrite` says so. */
function applier(tokenId: string, mayWrite: () => boolean = () => true): TokenApplier {
  const partition = h.naming.tokenPartition(tokenId);
  return new TokenApplier({
    models,
    naming: h.naming,
    partition,
    store: h.store,
    deadLetters,
    mayWrite,
    attributes: { of: () => Promise.resolve([]) },
  });
}

/** Whether the place's index lists the token (over every partition). */
async function listedIn(place: string, tokenId: string): Promise<boolean> {
  const ids = await indexedIds(models.places, h.naming, 'default', WF, { kind: 'place', place });
  return ids.includes(tokenId);
}

afterAll(async () => {
  await h?.dispose();
});

const state = (place: string, at: string, id = TOKEN) => ({
  id,
  workflowId: WF,
  definitionVersion: 1,
  place,
  data: {},
  metadata: {},
  createdAt: T0,
  updatedAt: at,
  placeEnteredAt: at,
});

/** Append the events to the stream (so the stats' gap check sees them) and return them decoded. */
async function append(events: TokenEvent[]): Promise<DecodedTokenEvent[]> {
  const out: DecodedTokenEvent[] = [];
  for (const event of events) {
    const { seq } = await h.store.append(
      h.naming.tokenSubject('default', WF, event.tokenId),
      event,
    );
    // The applier reads `seq`, `tenant`, `event` and whether the message was delivered before
    // (here: as if it was, so every document is read); acking is the runner's business.
    const msg = { info: { deliveryCount: 2 } } as unknown as JsMsg;
    out.push({ seq, tenant: 'default', event, msg });
  }
  return out;
}

function created(id: string): TokenEvent {
  return {
    type: 'token.created.v1',
    eventId: `e-c-${id}`,
    occurredAt: T0,
    workflowId: WF,
    tokenId: id,
    place: 'draft',
    state: state('draft', T0, id),
  };
}

function move(from: string, to: string, at: string, id = TOKEN): TokenEvent {
  return {
    type: 'token.transitioned.v1',
    eventId: `e-${to}-${id}`,
    occurredAt: at,
    workflowId: WF,
    tokenId: id,
    transition: `to-${to}`,
    from,
    to,
    timeInPlaceMs: 60_000,
    toFinal: false,
    state: { ...state(to, at, id), lastTransition: { id: `to-${to}`, from, to, at } },
  };
}

it('a worker whose lease ended writes nothing, so it cannot put back a place the next owner left', async () => {
  const [creation, submitted, approved] = await append([
    created(TOKEN),
    move('draft', 'pending_review', '2026-01-01T00:01:00.000Z'),
    move('pending_review', 'approved', '2026-01-01T00:02:00.000Z'),
  ]);
  const context = (last: DecodedTokenEvent) => ({ contiguous: true, lastSeq: last.seq });

  // The old owner applied the creation, then its lease ended in the middle of its next batch.
  let leaseValid = true;
  const old = applier(TOKEN, () => leaseValid);
  await old.apply([creation!], context(creation!));
  leaseValid = false;

  // The next owner got both moves and applied them.
  const next = applier(TOKEN);
  await next.apply([submitted!, approved!], context(approved!));

  // The old owner goes on with the batch it had in hand (the first move).
  await expect(old.apply([submitted!], context(submitted!))).rejects.toBeInstanceOf(LeaseLostError);

  const place = (p: string) => listedIn(p, TOKEN);
  expect(await place('draft')).toBe(false);
  expect(await place('pending_review')).toBe(false);
  expect(await place('approved')).toBe(true);
  expect(
    (await models.tokens.get(h.naming.tokenKey('default', TOKEN)))?.json<TokenDoc>(),
  ).toMatchObject({
    place: 'approved',
    version: approved!.seq,
  });
});

it("applies nothing ahead of an earlier event, so a crashed writer's place entry is always cleaned up", async () => {
  const id = 'crashed-1';
  const [creation, submitted] = await append([
    created(id),
    move('draft', 'pending_review', '2026-01-01T00:01:00.000Z', id),
  ]);
  const place = (p: string) => listedIn(p, id);

  // The first owner wrote the creation's place entry, then died before the document.
  // The lease is checked before each wave of writes: a new token's two indexes (its place and its
  // workflow's list) each write a chunk, then a head — four checks — then the documents.
  let checks = 0;
  const crashed = applier(id, () => ++checks <= 4);
  await expect(
    crashed.apply([creation!], { contiguous: true, lastSeq: creation!.seq }),
  ).rejects.toBeInstanceOf(LeaseLostError);
  expect(await place('draft')).toBe(true);
  expect(await models.tokens.get(h.naming.tokenKey('default', id))).toBeNull();

  // The next owner receives the move before the creation is redelivered: it must wait, since
  // applying the move first would skip the creation and never delete its entry.
  const next = applier(id);
  await expect(
    next.apply([submitted!], { contiguous: false, lastSeq: submitted!.seq }),
  ).rejects.toBeInstanceOf(NotYetError);
  expect(await models.tokens.get(h.naming.tokenKey('default', id))).toBeNull();
  expect(await place('pending_review')).toBe(false);

  // Once the creation is back, both apply in order and only the live place is left.
  next.reset();
  await next.apply([creation!, submitted!], { contiguous: false, lastSeq: submitted!.seq });
  expect(await place('draft')).toBe(false);
  expect(await place('pending_review')).toBe(true);
  expect(
    (await models.tokens.get(h.naming.tokenKey('default', id)))?.json<TokenDoc>(),
  ).toMatchObject({
    place: 'pending_review',
    version: submitted!.seq,
  });
});

it('does not wait for what is dead-lettered: an event on the wrong subject or one that kept failing', async () => {
  const id = 'skipped-1';
  const [creation] = await append([created(id)]);
  const next = applier(id);
  await next.apply([creation!], { contiguous: true, lastSeq: creation!.seq });

  // A valid event of another token on this token's subject (the decoder dead-letters it as
  // invalid), then a valid event that will keep failing, then the next good one.
  const subject = h.naming.tokenSubject('default', WF, id);
  await h.infra.js.publish(subject, encodeJson(created('someone-else')));
  const [failing, later] = await append([
    move('draft', 'pending_review', '2026-01-01T00:01:00.000Z', id),
    move('draft', 'approved', '2026-01-01T00:02:00.000Z', id),
  ]);
  const context = { contiguous: false, lastSeq: later!.seq };

  // Until the failing event is dead-lettered, the later one waits for it.
  await expect(next.apply([later!], context)).rejects.toBeInstanceOf(NotYetError);
  next.reset();

  const msg = {
    subject,
    seq: failing!.seq,
    data: encodeJson(failing!.event),
    info: { deliveryCount: 5 },
    term: () => undefined,
  };
  await deadLetters.send(msg as unknown as JsMsg, 'failing', 'failed 5 times: test');
  // Another consumer (a rebuild's generation) does not take this one's verdict for its own.
  const metrics = createProjectionMetrics();
  const other = new DeadLetters(h.infra.mux, h.naming, 'other', metrics, silent);
  expect(await other.contains(subject, failing!.seq)).toBe(false);
  expect(await deadLetters.contains(subject, failing!.seq)).toBe(true);
  await next.apply([later!], context);
  expect(
    (await models.tokens.get(h.naming.tokenKey('default', id)))?.json<TokenDoc>(),
  ).toMatchObject({
    place: 'approved',
    version: later!.seq,
  });
  expect(await listedIn('draft', id)).toBe(false);
});

it('splits a growing index into chunks and merges a shrinking one, listing every token once', async () => {
  // 1,200 tokens of one partition in one place: more than two chunks' worth (512 ids each).
  const partition = 5;
  const ids: string[] = [];
  for (let n = 0; ids.length < 1200; n++) {
    const id = `split-${String(n).padStart(5, '0')}`;
    if (h.naming.tokenPartition(id) === partition) ids.push(id);
  }
  const writer = new TokenApplier({
    models,
    naming: h.naming,
    partition,
    store: h.store,
    deadLetters,
    mayWrite: () => true,
    attributes: { of: () => Promise.resolve([]) },
  });
  const apply = async (events: TokenEvent[]): Promise<void> => {
    const decoded = await append(events);
    for (let i = 0; i < decoded.length; i += 300) {
      const batch = decoded.slice(i, i + 300);
      await writer.apply(batch, { contiguous: false, lastSeq: batch.at(-1)!.seq });
    }
  };
  // The other tests' tokens share the workflow: only this test's are compared.
  const listed = async (place: string) =>
    (await indexedIds(models.places, h.naming, 'default', WF, { kind: 'place', place })).filter(
      (id) => id.startsWith('split-'),
    );
  const head = async (place: string) =>
    (
      await models.places.get(
        h.naming.indexHeadKey('default', WF, { kind: 'place', place }, partition),
      )
    )?.json<{ chunks: unknown[]; retired?: unknown[] }>();

  await apply(ids.map((id) => created(id)));
  expect(await listed('draft')).toEqual(ids);
  expect((await head('draft'))!.chunks.length).toBeGreaterThan(2);
  // Split chunks stay stored for readers of the earlier head (retired, deleted a minute later).
  expect((await head('draft'))!.retired?.length).toBeGreaterThan(0);

  // All but 30 move on: the drained chunks merge, the rest is listed in its new place.
  const movers = ids.slice(30);
  await apply(movers.map((id) => move('draft', 'pending_review', T0, id)));
  expect(await listed('draft')).toEqual(ids.slice(0, 30));
  expect(await listed('pending_review')).toEqual(movers);
  expect((await head('draft'))!.chunks.length).toBeLessThanOrEqual(2);
});
