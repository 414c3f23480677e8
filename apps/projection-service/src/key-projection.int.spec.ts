import { KeyStore, ensureKeysBucket } from '@cb/auth';
import type { ApiKeyRecord, KeyEvent } from '@cb/schemas';
import { waitFor } from '@cb/testing';
import { KeyProjection } from './key-projection';
import { silent, startHarness, type Harness } from './testing/harness';

let h: Harness;
const projections: KeyProjection[] = [];

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await Promise.all(projections.map((p) => p.stop()));
  await h?.dispose();
});

function record(id: string, revokedAt?: string): ApiKeyRecord {
  return {
    id,
    tenant: 'acme',
    scopes: ['read'],
    hash: 'b'.repeat(64),
    createdAt: '2026-12-01T00:00:00.000Z',
    createdBy: { tenant: 'default', keyId: 'root' },
    ...(revokedAt !== undefined ? { revokedAt } : {}),
  };
}

function event(type: KeyEvent['type'], key: ApiKeyRecord): KeyEvent {
  return {
    type,
    eventId: `${type}-${key.id}`,
    occurredAt: '2026-12-01T00:00:00.000Z',
    principal: { tenant: 'default', keyId: 'root' },
    tenant: key.tenant,
    keyId: key.id,
    key,
  };
}

async function start(): Promise<KeyStore> {
  const keys = await ensureKeysBucket(h.infra.js, h.naming, 1, silent);
  const projection = new KeyProjection({
    js: h.infra.js,
    jsm: h.infra.jsm,
    naming: h.naming,
    keys,
    logger: silent,
  });
  projections.push(projection);
  await projection.start();
  return new KeyStore(keys, h.naming);
}

it('writes each key’s record, and a revocation stays whatever the order the events arrive in', async () => {
  const store = await start();
  // Two workers share the consumer.
  await start();
  const live = record('LiveKey000000001');
  const gone = record('GoneKey000000001');
  const revokedAt = '2026-12-01T01:00:00.000Z';
  const subject = (id: string) => h.naming.apiKeySubject('acme', id);
  await h.store.append(subject(live.id), event('apikey.created.v1', live));
  // A revocation processed before its creation (as a redelivery or a second worker may):
  // the creation never brings the key back.
  await h.store.append(subject(gone.id), event('apikey.revoked.v1', record(gone.id, revokedAt)));
  await waitFor(async () => (await store.get(gone.id))?.record.revokedAt === revokedAt);
  await h.store.append(subject(gone.id), event('apikey.created.v1', gone));
  // Garbage on a key subject is never applied, and does not stop what follows.
  await h.infra.js.publish(subject('JunkKey000000001'), new TextEncoder().encode('{"not":"x"}'));
  const after = record('AfterKey00000001');
  await h.store.append(subject(after.id), event('apikey.created.v1', after));

  await waitFor(async () => (await store.get(after.id)) !== null);
  await waitFor(async () => (await store.get(live.id)) !== null);
  expect((await store.get(live.id))?.record).toEqual(live);
  const info = await h.infra.jsm.consumers.info(h.naming.stream, h.naming.keysConsumer);
  await waitFor(
    async () =>
      (await h.infra.jsm.consumers.info(h.naming.stream, h.naming.keysConsumer)).num_ack_pending ===
      0,
  );
  expect(info.config.filter_subject).toBe(h.naming.allApiKeysSubject);
  expect((await store.get(gone.id))?.record.revokedAt).toBe(revokedAt);
  expect(await store.get('JunkKey000000001')).toBeNull();
});
