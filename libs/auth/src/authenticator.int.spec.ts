import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { createLogger } from '@cb/logging';
import type { ApiKeyRecord, Scope } from '@cb/schemas';
import { kvStreamName, Naming } from '@cb/subjects';
import { startTestNats, waitFor, type TestNats } from '@cb/testing';
import { Authenticator, type AuthenticatorOptions, type AuthSuccess } from './authenticator';
import { ensureAuthBuckets, type AuthBuckets } from './buckets';
import { hashSecret, mintApiKey } from './credentials';
import { AuthError } from './errors';
import { KeyStore, toApiKey } from './key-store';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'auth-spec', level: 'silent' });
const ADMIN_KEY = 'test-admin-key-0123456789-0123456789';
const PEPPER = 'pepper-for-tests-0123456789';

let nats: TestNats;
const connections: NatsConnection[] = [];
const authenticators: Authenticator[] = [];
let prefixes = 0;

beforeAll(async () => {
  nats = await startTestNats();
});

afterEach(async () => {
  await Promise.all(authenticators.splice(0).map((a) => a.close()));
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await nats?.dispose();
});

interface Deployment {
  naming: Naming;
  /** A fresh connection and its buckets: one per gateway. */
  gateway(): Promise<AuthBuckets>;
}

function deployment(sessionTtlSeconds = 3600): Deployment {
  const naming = new Naming({ prefix: `a${++prefixes}`, stream: `A${prefixes}`, partitions: 1 });
  return {
    naming,
    async gateway() {
      const nc = await connect({ servers: nats.url });
      connections.push(nc);
      return ensureAuthBuckets(jetstream(nc), naming, { sessionTtlSeconds, replicas: 1 }, logger);
    },
  };
}

async function authenticator(
  d: Deployment,
  options: Partial<AuthenticatorOptions> = {},
  buckets?: AuthBuckets,
): Promise<Authenticator> {
  const auth = new Authenticator({
    buckets: buckets ?? (await d.gateway()),
    naming: d.naming,
    logger,
    adminKey: ADMIN_KEY,
    pepper: PEPPER,
    sessionTtlSeconds: 3600,
    ...options,
  });
  authenticators.push(auth);
  await auth.start();
  return auth;
}

async function storeKey(
  buckets: AuthBuckets,
  d: Deployment,
  fields: Partial<ApiKeyRecord> & { scopes?: Scope[] } = {},
): Promise<{ key: string; record: ApiKeyRecord }> {
  const minted = mintApiKey();
  const record: ApiKeyRecord = {
    id: minted.id,
    tenant: 'acme',
    scopes: ['read'],
    createdAt: new Date().toISOString(),
    createdBy: { tenant: 'default', keyId: 'root' },
    hash: hashSecret(minted.secret, PEPPER),
    ...fields,
  };
  await new KeyStore(buckets.keys, d.naming).put(record);
  return { key: minted.key, record };
}

const bearer = (credential: string) => `Bearer ${credential}`;

async function principalOf(auth: Authenticator, credential: string) {
  const result = await auth.authenticate(bearer(credential));
  return result.ok ? result.principal : result.reason;
}

/** How long until `probe` holds, polling every 10 ms; fails past `boundMs`. */
async function msUntil(probe: () => Promise<boolean>, boundMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(async () => (await probe()) || undefined, { timeoutMs: boundMs, intervalMs: 10 });
  return Date.now() - started;
}

async function lookups(registry: Registry, kind: string, result: string): Promise<number> {
  const metric = await registry.getSingleMetricAsString('cb_auth_cache_lookups_total');
  const line = metric
    .split('\n')
    .find((l) => l.includes(`kind="${kind}"`) && l.includes(`result="${result}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('Authenticator', () => {
  it('resolves keys, the root credential and refuses the rest with a reason', async () => {
    const d = deployment();
    const buckets = await d.gateway();
    const registry = new Registry();
    const auth = await authenticator(d, { registry }, buckets);
    const { key, record } = await storeKey(buckets, d, {
      scopes: ['read', 'tokens:write'],
      workflows: ['orders'],
      rateLimit: { requests: 10, windowSeconds: 60 },
    });

    const ok = await auth.authenticate(bearer(key));
    expect(ok).toEqual({
      ok: true,
      principal: {
        tenant: 'acme',
        keyId: record.id,
        scopes: ['read', 'tokens:write'],
        workflows: ['orders'],
      },
      rateLimit: { requests: 10, windowSeconds: 60 },
    });
    expect(Object.isFrozen((ok as AuthSuccess).principal)).toBe(true);
    expect(await principalOf(auth, ADMIN_KEY)).toEqual({
      tenant: 'default',
      keyId: 'root',
      scopes: ['read', 'tokens:write', 'workflows:write', 'keys:admin', 'webhooks:admin'],
      root: true,
    });

    const wrongSecret = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
    expect(await principalOf(auth, wrongSecret)).toBe('unknown');
    expect(await principalOf(auth, mintApiKey().key)).toBe('unknown');
    expect(await principalOf(auth, `${ADMIN_KEY}x`)).toBe('unknown');
    expect(await principalOf(auth, 'cbs_not-a-session')).toBe('malformed');
    expect(await auth.authenticate(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(await auth.authenticate(`Basic ${key}`)).toEqual({ ok: false, reason: 'malformed' });
    expect(await auth.authenticate(`Bearer ${'x'.repeat(10_240)}`)).toEqual({
      ok: false,
      reason: 'malformed',
    });

    // The same key again is served from memory.
    const hits = await lookups(registry, 'key', 'hit');
    await auth.authenticate(bearer(key));
    expect(await lookups(registry, 'key', 'hit')).toBe(hits + 1);
    const failures = await registry.getSingleMetricAsString('cb_auth_failures_total');
    expect(failures).toContain('reason="unknown"} 3');
    expect(failures).toContain('reason="malformed"} 3');
    expect(failures).toContain('reason="missing"} 1');
    expect(failures).not.toContain('acme');
  });

  it('issue 12, deliverable 5: a revoked key is refused by two gateways within 2 s', async () => {
    const d = deployment();
    const [a, b] = [await authenticator(d), await authenticator(d)];
    const admin = await d.gateway();
    const { key, record } = await storeKey(admin, d);
    // Both gateways have validated (and cached) the key.
    for (const auth of [a, b]) {
      expect(await principalOf(auth, key)).toMatchObject({ keyId: record.id });
      expect(await principalOf(auth, key)).toMatchObject({ keyId: record.id });
    }
    const revokedAt = Date.now();
    await new KeyStore(admin.keys, d.naming).revoke(record.id, new Date(revokedAt).toISOString());
    const refused = async (auth: Authenticator) => (await principalOf(auth, key)) === 'revoked';
    const [ma, mb] = await Promise.all([
      msUntil(() => refused(a), 2000),
      msUntil(() => refused(b), 2000),
    ]);
    expect(Math.max(ma, mb)).toBeLessThan(2000);

    // A deleted record is as dead.
    const other = await storeKey(admin, d);
    expect(await principalOf(b, other.key)).toMatchObject({ keyId: other.record.id });
    await new KeyStore(admin.keys, d.naming).delete(other.record.id);
    await msUntil(async () => (await principalOf(b, other.key)) === 'unknown', 2000);
  });

  it('issue 12, deliverable 5: revocation is honoured within 2 s even when a watch loses its consumer', async () => {
    const d = deployment();
    const buckets = await d.gateway();
    const auth = await authenticator(d, {}, buckets);
    const { key, record } = await storeKey(buckets, d);
    expect(await principalOf(auth, key)).toMatchObject({ keyId: record.id });
    // The server loses the watch's consumer (as when the node holding it dies).
    const jsm = await jetstreamManager(connections[0]!);
    const stream = kvStreamName(d.naming.keysBucket);
    for await (const c of jsm.consumers.list(stream)) await jsm.consumers.delete(stream, c.name);
    await new KeyStore(buckets.keys, d.naming).revoke(record.id, new Date().toISOString());
    const ms = await msUntil(async () => (await principalOf(auth, key)) === 'revoked', 2000);
    expect(ms).toBeLessThan(2000);
    // The watch comes back, and the cache with it.
    await waitFor(() => auth.watching, { timeoutMs: 10_000 });
  });

  it('honours a key’s expiry on cached hits, without any event', async () => {
    const d = deployment();
    const registry = new Registry();
    const buckets = await d.gateway();
    const auth = await authenticator(d, { registry }, buckets);
    // A trial counts when the expired key was answered from memory. On a loaded machine the
    // watch's late delivery of the key's own put can drop the cached entry just before expiry
    // (the lookup then reads the bucket, and refuses it as well): such a trial proves nothing
    // about the cache, so another key is tried. Every trial must refuse the expired key.
    let servedFromMemory = 0;
    for (let trial = 0; trial < 3 && servedFromMemory === 0; trial++) {
      const expiresAt = new Date(Date.now() + 2000).toISOString();
      const { key } = await storeKey(buckets, d, { expiresAt });
      expect(await auth.authenticate(bearer(key))).toMatchObject({ ok: true, expiresAt });
      await waitFor(
        async () => {
          const before = await lookups(registry, 'key', 'hit');
          await auth.authenticate(bearer(key));
          return (await lookups(registry, 'key', 'hit')) > before;
        },
        { timeoutMs: 1500, intervalMs: 50, description: 'the key to be served from memory' },
      );
      await new Promise((r) =>
        setTimeout(r, Math.max(0, Date.parse(expiresAt) - Date.now() + 100)),
      );
      const hits = await lookups(registry, 'key', 'hit');
      expect(await principalOf(auth, key)).toBe('expired');
      if ((await lookups(registry, 'key', 'hit')) === hits + 1) servedFromMemory++;
    }
    expect(servedFromMemory).toBe(1);
  });

  it('issue 12, deliverable 4: a session has its key’s tenant and scopes and dies with it on every gateway', async () => {
    const d = deployment();
    const [a, b] = [await authenticator(d), await authenticator(d)];
    const admin = await d.gateway();
    const { key, record } = await storeKey(admin, d, { scopes: ['read', 'tokens:write'] });
    const viaKey = (await a.authenticate(bearer(key))) as AuthSuccess;
    const before = Date.now();
    const { session, sessionId } = await a.createSession(viaKey);
    expect(session).toEqual({
      session: expect.stringMatching(/^cbs_[0-9A-Za-z]{32}$/),
      expiresAt: expect.any(String),
      tenant: 'acme',
      scopes: ['read', 'tokens:write'],
    });
    const lifetime = Date.parse(session.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(3600_000 - 5000);
    expect(lifetime).toBeLessThanOrEqual(3600_000 + 1000);
    for (const auth of [a, b]) {
      expect(await auth.authenticate(bearer(session.session))).toEqual({
        ok: true,
        principal: {
          tenant: 'acme',
          keyId: record.id,
          scopes: ['read', 'tokens:write'],
          sessionId,
        },
        expiresAt: session.expiresAt,
      });
    }
    // The record is stored under the token's digest, never the token.
    const entry = await admin.sessions.get(sessionId);
    expect(new TextDecoder().decode(entry!.value)).not.toContain(session.session);

    await expect(
      a.createSession((await a.authenticate(bearer(session.session))) as AuthSuccess),
    ).rejects.toMatchObject({ code: 'SESSION_FROM_SESSION' });

    await new KeyStore(admin.keys, d.naming).revoke(record.id, new Date().toISOString());
    const dead = async (auth: Authenticator) =>
      (await principalOf(auth, session.session)) === 'revoked';
    const [ma, mb] = await Promise.all([
      msUntil(() => dead(a), 2000),
      msUntil(() => dead(b), 2000),
    ]);
    expect(Math.max(ma, mb)).toBeLessThan(2000);
  });

  it('issue 12, deliverable 4: a deleted session is refused at once by its gateway and within 2 s by the others', async () => {
    const d = deployment();
    const [a, b] = [await authenticator(d), await authenticator(d)];
    const admin = await d.gateway();
    const { key } = await storeKey(admin, d);
    const { session, sessionId } = await a.createSession(
      (await a.authenticate(bearer(key))) as AuthSuccess,
    );
    for (const auth of [a, b]) {
      expect(await principalOf(auth, session.session)).toMatchObject({ sessionId });
    }
    await a.revokeSession(sessionId);
    expect(await principalOf(a, session.session)).toBe('unknown');
    const ms = await msUntil(
      async () => (await principalOf(b, session.session)) === 'unknown',
      2000,
    );
    expect(ms).toBeLessThan(2000);
    // The key itself still works.
    expect(await principalOf(b, key)).toMatchObject({ tenant: 'acme' });
  });

  it('issue 12, deliverable 4: a session expires (short SESSION_TTL_S), and never outlives its key', async () => {
    const d = deployment(2);
    const buckets = await d.gateway();
    const auth = await authenticator(d, { sessionTtlSeconds: 1 }, buckets);
    const { key } = await storeKey(buckets, d);
    const { session, sessionId } = await auth.createSession(
      (await auth.authenticate(bearer(key))) as AuthSuccess,
    );
    expect(await principalOf(auth, session.session)).toMatchObject({ tenant: 'acme' });
    await new Promise((r) => setTimeout(r, Date.parse(session.expiresAt) - Date.now() + 50));
    expect(await principalOf(auth, session.session)).toBe('expired');
    // The bucket's age limit (2 s here) then removes the record itself.
    await waitFor(async () => (await buckets.sessions.get(sessionId)) === null, {
      timeoutMs: 10_000,
    });
    expect(await principalOf(auth, session.session)).toBe('expired');
    expect(await principalOf(await authenticator(d, {}, buckets), session.session)).toBe('unknown');

    const keyEnd = new Date(Date.now() + 60_000).toISOString();
    const short = await storeKey(buckets, d, { expiresAt: keyEnd });
    const long = await authenticator(d, { sessionTtlSeconds: 3600 }, buckets);
    const made = await long.createSession(
      (await long.authenticate(bearer(short.key))) as AuthSuccess,
    );
    expect(made.session.expiresAt).toBe(keyEnd);
  });

  it('ends root sessions when CB_ADMIN_KEY changes, and refuses them without one', async () => {
    const d = deployment();
    const buckets = await d.gateway();
    const auth = await authenticator(d, {}, buckets);
    const { session, sessionId } = await auth.createSession(
      (await auth.authenticate(bearer(ADMIN_KEY))) as AuthSuccess,
    );
    expect(await principalOf(auth, session.session)).toEqual({
      tenant: 'default',
      keyId: 'root',
      scopes: ['read', 'tokens:write', 'workflows:write', 'keys:admin', 'webhooks:admin'],
      root: true,
      sessionId,
    });
    const rotated = await authenticator(d, { adminKey: `${ADMIN_KEY}-rotated` });
    expect(await principalOf(rotated, session.session)).toBe('revoked');
    expect(await principalOf(rotated, ADMIN_KEY)).toBe('unknown');
    const none = await authenticator(d, { adminKey: undefined });
    expect(none.hasRoot).toBe(false);
    expect(await principalOf(none, session.session)).toBe('revoked');
    expect(await principalOf(none, ADMIN_KEY)).toBe('unknown');
  });

  it('never lets random credentials evict validated ones, nor remembers them', async () => {
    const d = deployment();
    const registry = new Registry();
    const buckets = await d.gateway();
    // Probes 5 s apart keep the cache trusted through the whole test even on a loaded machine
    // (an untrusted cache serves nothing, which would read as an eviction here).
    const auth = await authenticator(
      d,
      { registry, cacheMaxEntries: 2, probeIntervalMs: 5000 },
      buckets,
    );
    const good = await storeKey(buckets, d);
    // Cached and settled first: the watch's own delivery of the key's put may arrive after the
    // first validation (late on a loaded machine) and rightly drop it — that is not an eviction.
    await waitFor(
      async () => {
        const before = await lookups(registry, 'key', 'hit');
        expect(await principalOf(auth, good.key)).toMatchObject({ keyId: good.record.id });
        return (await lookups(registry, 'key', 'hit')) === before + 1;
      },
      { timeoutMs: 10_000, description: 'the good key served from memory' },
    );
    for (let i = 0; i < 300; i++) {
      expect(await principalOf(auth, mintApiKey().key)).toBe('unknown');
      expect(await principalOf(auth, `cbs_${mintApiKey().secret}`)).toBe('unknown');
    }
    expect(auth.watching).toBe(true);
    const hits = await lookups(registry, 'key', 'hit');
    expect(await principalOf(auth, good.key)).toMatchObject({ keyId: good.record.id });
    expect(await lookups(registry, 'key', 'hit')).toBe(hits + 1);
  });

  it('reads concurrent misses of one record once, and treats invalid records as absent', async () => {
    const d = deployment();
    const registry = new Registry();
    const buckets = await d.gateway();
    let reads = 0;
    const keys = new Proxy(buckets.keys, {
      get(target, prop, receiver) {
        if (prop === 'get') reads++;
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const auth = await authenticator(d, { registry }, { ...buckets, keys });
    const { key } = await storeKey(buckets, d);
    const results = await Promise.all(Array.from({ length: 50 }, () => principalOf(auth, key)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]).toMatchObject({ tenant: 'acme' });
    expect(await lookups(registry, 'key', 'miss')).toBe(50);
    expect(reads).toBe(1);

    const bad = mintApiKey();
    await buckets.keys.put(bad.id, JSON.stringify({ id: bad.id, tenant: 'acme', hash: 'nope' }));
    expect(await principalOf(auth, bad.key)).toBe('unknown');
  });

  it('answers UNAVAILABLE, not a refusal, when NATS cannot serve a lookup', async () => {
    const d = deployment();
    const buckets = await d.gateway();
    const auth = await authenticator(d, {}, buckets);
    const { key } = await storeKey(buckets, d);
    await connections[0]!.close();
    const error = await auth.authenticate(bearer(key)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(auth.watching).toBe(false);
  });
});

describe('KeyStore', () => {
  it('lists records by tenant without their hashes through toApiKey, and revokes once', async () => {
    const d = deployment();
    const buckets = await d.gateway();
    const store = new KeyStore(buckets.keys, d.naming);
    const a1 = await storeKey(buckets, d, { tenant: 'a' });
    const a2 = await storeKey(buckets, d, { tenant: 'a', name: 'second' });
    await storeKey(buckets, d, { tenant: 'b' });
    const listed = await store.list({ tenant: 'a' });
    expect(listed.map((r) => r.id).sort()).toEqual([a1.record.id, a2.record.id].sort());
    expect((await store.list()).length).toBe(3);
    expect(listed.map(toApiKey).every((k) => !('hash' in k))).toBe(true);
    const revoked = await store.revoke(a1.record.id, '2030-01-01T00:00:00.000Z');
    expect(revoked?.revokedAt).toBe('2030-01-01T00:00:00.000Z');
    expect((await store.revoke(a1.record.id, '2031-01-01T00:00:00.000Z'))?.revokedAt).toBe(
      '2030-01-01T00:00:00.000Z',
    );
    expect(await store.revoke(mintApiKey().id, '2030-01-01T00:00:00.000Z')).toBeNull();
    await expect(store.put({ ...a1.record, tenant: 'Not-Valid' })).rejects.toMatchObject({
      code: 'INVALID_RECORD',
    });
  });
});
