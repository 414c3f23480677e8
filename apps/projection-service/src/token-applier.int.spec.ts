import type { JsMsg } from '@nats-io/jetstream';
import type { PlaceEntry, TokenDoc, TokenEvent } from '@cb/schemas';
import type { DecodedTokenEvent } from './batch';
import { ensureReadModels, type ReadModels } from './read-models';
import { startHarness, type Harness } from './testing/harness';
import { LeaseLostError, TokenApplier } from './token-applier';

const WF = 'document_review';
const TOKEN = 'stale-1';
const T0 = '2026-01-01T00:00:00.000Z';

let h: Harness;
let models: ReadModels;

beforeAll(async () => {
  h = await startHarness();
  models = await ensureReadModels(h.infra.kvm, h.infra.mux, h.naming, 1, 1);
});

afterAll(async () => {
  await h?.dispose();
});

const state = (place: string, at: string) => ({
  id: TOKEN,
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
  const subject = h.naming.tokenSubject(WF, TOKEN);
  const out: DecodedTokenEvent[] = [];
  for (const event of events) {
    const { seq } = await h.store.append(subject, event);
    // The applier reads only `seq` and `event`; acking is the runner's business.
    out.push({ seq, event, msg: undefined as unknown as JsMsg });
  }
  return out;
}

function move(from: string, to: string, at: string): TokenEvent {
  return {
    type: 'token.transitioned.v1',
    eventId: `e-${to}`,
    occurredAt: at,
    workflowId: WF,
    tokenId: TOKEN,
    transition: `to-${to}`,
    from,
    to,
    timeInPlaceMs: 60_000,
    toFinal: false,
    state: { ...state(to, at), lastTransition: { id: `to-${to}`, from, to, at } },
  };
}

it('a worker whose lease ended writes nothing, so it cannot put back a place the next owner left', async () => {
  const [created, submitted, approved] = await append([
    {
      type: 'token.created.v1',
      eventId: 'e-c',
      occurredAt: T0,
      workflowId: WF,
      tokenId: TOKEN,
      place: 'draft',
      state: state('draft', T0),
    },
    move('draft', 'pending_review', '2026-01-01T00:01:00.000Z'),
    move('pending_review', 'approved', '2026-01-01T00:02:00.000Z'),
  ]);
  const partition = h.naming.tokenPartition(TOKEN);
  const context = (last: DecodedTokenEvent) => ({ contiguous: true, lastSeq: last.seq });

  // The old owner applied the creation, then its lease ended in the middle of its next batch.
  let leaseValid = true;
  const old = new TokenApplier(models, h.naming, partition, h.store, () => leaseValid);
  await old.apply([created!], context(created!));
  leaseValid = false;

  // The next owner got both moves and applied them.
  const next = new TokenApplier(models, h.naming, partition, h.store, () => true);
  await next.apply([submitted!, approved!], context(approved!));

  // The old owner goes on with the batch it had in hand (the first move).
  await expect(old.apply([submitted!], context(submitted!))).rejects.toBeInstanceOf(LeaseLostError);

  const place = (p: string) => models.places.get(h.naming.placeKey(WF, p, TOKEN));
  expect((await place('draft'))?.operation).toBe('DEL');
  expect((await place('pending_review'))?.operation).toBe('DEL');
  expect((await place('approved'))?.json<PlaceEntry>()).toMatchObject({ version: approved!.seq });
  expect((await models.tokens.get(TOKEN))?.json<TokenDoc>()).toMatchObject({
    place: 'approved',
    version: approved!.seq,
  });
});
