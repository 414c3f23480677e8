import type { WebhookEntry, WebhookEvent, WebhookRecord } from '@cb/schemas';
import { decodeJson } from '@cb/nats';
import { waitFor } from '@cb/testing';
import { WebhookProjection } from './webhook-projection';
import { silent, startHarness, type Harness } from './testing/harness';

let h: Harness;
const projections: WebhookProjection[] = [];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await Promise.all(projections.map((p) => p.stop()));
  await h?.dispose();
});

function record(id: string, deletedAt?: string): WebhookRecord {
  return {
    id,
    tenant: 'acme',
    url: 'https://example.com/hook',
    events: ['token.created.v1'],
    secret: `whsec_${'A'.repeat(32)}`,
    createdAt: '2026-12-01T00:00:00.000Z',
    createdBy: { tenant: 'acme', keyId: 'root' },
    ...(deletedAt !== undefined ? { deletedAt } : {}),
  };
}

function event(type: WebhookEvent['type'], webhook: WebhookRecord): WebhookEvent {
  return {
    type,
    eventId: `${type}-${webhook.id}`,
    occurredAt: '2026-12-01T00:00:00.000Z',
    principal: { tenant: 'acme', keyId: 'root' },
    tenant: webhook.tenant,
    webhookId: webhook.id,
    webhook,
  };
}

async function start(): Promise<void> {
  const projection = new WebhookProjection({
    js: h.infra.js,
    jsm: h.infra.jsm,
    naming: h.naming,
    webhooks: h.infra.webhooks,
    logger: silent,
  });
  projections.push(projection);
  await projection.start();
}

async function read(id: string): Promise<WebhookEntry | null> {
  const entry = await h.infra.webhooks.get(h.naming.webhookKey('acme', id));
  return entry === null || entry.operation !== 'PUT'
    ? null
    : (decodeJson(entry.value) as WebhookEntry);
}

it('writes each webhook with its creation seq, and a deletion stays whatever the order', async () => {
  await start();
  // Two workers share the consumer.
  await start();
  const live = record('wh_Live000000000001');
  const gone = record('wh_Gone000000000001');
  const deletedAt = '2026-12-01T01:00:00.000Z';
  const subject = (id: string) => h.naming.webhookSubject('acme', id);
  const created = await h.store.append(subject(live.id), event('webhook.created.v1', live));
  // A deletion processed before its creation (a redelivery, a second worker): the creation never
  // brings the webhook back.
  await h.store.append(subject(gone.id), event('webhook.deleted.v1', record(gone.id, deletedAt)));
  await waitFor(async () => (await read(gone.id))?.deletedAt === deletedAt);
  await h.store.append(subject(gone.id), event('webhook.created.v1', gone));
  // Garbage on a webhook subject is never applied, and does not stop what follows.
  const junk = 'wh_Junk000000000001';
  await h.infra.js.publish(subject(junk), new TextEncoder().encode('{"not":"x"}'));
  const after = record('wh_After00000000001');
  await h.store.append(subject(after.id), event('webhook.created.v1', after));

  await waitFor(async () => (await read(after.id)) !== null);
  await waitFor(async () => (await read(live.id)) !== null);
  expect(await read(live.id)).toEqual({ ...live, seq: created.seq });
  await waitFor(
    async () =>
      (await h.infra.jsm.consumers.info(h.naming.stream, h.naming.webhooksConsumer))
        .num_ack_pending === 0,
  );
  const info = await h.infra.jsm.consumers.info(h.naming.stream, h.naming.webhooksConsumer);
  expect(info.config.filter_subject).toBe(h.naming.allWebhooksSubject);
  expect((await read(gone.id))?.deletedAt).toBe(deletedAt);
  expect(await read(junk)).toBeNull();

  // Deleting a live webhook keeps its creation seq on the tombstone.
  const deleted = record(live.id, deletedAt);
  await h.store.append(subject(live.id), event('webhook.deleted.v1', deleted));
  await waitFor(async () => (await read(live.id))?.deletedAt === deletedAt);
  expect(await read(live.id)).toEqual({ ...deleted, seq: created.seq });
});
