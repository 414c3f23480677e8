import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { createLogger } from '@cb/logging';
import type { RateLimitSetting } from '@cb/schemas';
import { Naming } from '@cb/subjects';
import { startTestNats, type TestNats } from '@cb/testing';
import { ensureAuthBuckets } from './buckets';
import { mintApiKey } from './credentials';
import { AuthError } from './errors';
import { RateLimiter, rateLimitHeaders, type RateLimiterOptions } from './rate-limiter';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'rate-limit-spec', level: 'silent' });
const HOUR = 3600_000;

let nats: TestNats;
const connections: NatsConnection[] = [];
const limiters: RateLimiter[] = [];
let prefixes = 0;

beforeAll(async () => {
  nats = await startTestNats();
});

afterEach(async () => {
  await Promise.all(limiters.splice(0).map((l) => l.close()));
  await Promise.all(connections.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await nats?.dispose();
});

/** A clock one second into a fresh hour, so an hour-long window never ends during a test. */
function hourClock(): { now: () => number; advance(ms: number): void } {
  let offset = Math.ceil(Date.now() / HOUR) * HOUR + 1000 - Date.now();
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

function deployment() {
  const naming = new Naming({ prefix: `r${++prefixes}`, stream: `R${prefixes}`, partitions: 1 });
  return {
    naming,
    /** A limiter on its own connection: one per gateway. */
    async limiter(options: Partial<RateLimiterOptions> = {}): Promise<RateLimiter> {
      const nc = await connect({ servers: nats.url });
      connections.push(nc);
      const { rateLimits } = await ensureAuthBuckets(
        jetstream(nc),
        naming,
        { sessionTtlSeconds: 3600, replicas: 1 },
        logger,
      );
      const limiter = new RateLimiter({
        kv: rateLimits,
        naming,
        logger,
        defaultLimit: { requests: 6000, windowSeconds: 60 },
        ...options,
      });
      limiters.push(limiter);
      return limiter;
    },
  };
}

const yieldToIo = () => new Promise<void>((r) => setImmediate(r));

interface Counts {
  allowed: number;
  refused: number;
}

/** `clients` loops asking `limiter` back to back until `until`; `counts` is kept up to date. */
async function ask(
  limiter: RateLimiter,
  keyId: string,
  limit: RateLimitSetting,
  clients: number,
  until: () => boolean,
  counts: Counts = { allowed: 0, refused: 0 },
): Promise<Counts> {
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!until()) {
        const d = await limiter.take(keyId, limit);
        if (d.allowed) counts.allowed++;
        else counts.refused++;
        await yieldToIo();
      }
    }),
  );
  return counts;
}

async function natsRequests(registry: Registry): Promise<Record<string, number>> {
  const text = await registry.getSingleMetricAsString('cb_rate_limit_nats_requests_total');
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/op="(\w+)"\} (\d+)/g)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('RateLimiter', () => {
  it('issue 12, deliverable 9: exact across two gateways — N=100 under concurrent requests from both, never more, and all N when clients keep asking', async () => {
    const d = deployment();
    const clock = hourClock();
    const [a, b] = [await d.limiter({ now: clock.now }), await d.limiter({ now: clock.now })];
    const keyId = mintApiKey().id;
    const limit = { requests: 100, windowSeconds: 3600 };
    const end = Date.now() + 2500;
    const [ca, cb] = await Promise.all([
      ask(a, keyId, limit, 16, () => Date.now() > end),
      ask(b, keyId, limit, 16, () => Date.now() > end),
    ]);
    expect(ca.allowed + cb.allowed).toBe(100);
    // Both kept asking past the limit the whole time.
    expect(ca.refused).toBeGreaterThan(100);
    expect(cb.refused).toBeGreaterThan(100);
  });

  it('issue 12, deliverable 9: a gateway whose clients stop gives its unused block back, so the others get all N', async () => {
    const d = deployment();
    const clock = hourClock();
    const [a, b] = [
      await d.limiter({ now: clock.now, idleReturnMs: 500 }),
      await d.limiter({ now: clock.now, idleReturnMs: 500 }),
    ];
    const keyId = mintApiKey().id;
    const limit = { requests: 100, windowSeconds: 3600 };
    // A serves 3 requests and stops: it leased a block of 10 (10 % of 100).
    for (let i = 0; i < 3; i++) expect((await a.take(keyId, limit)).allowed).toBe(true);
    const countsB: Counts = { allowed: 0, refused: 0 };
    const started = Date.now();
    await ask(
      b,
      keyId,
      limit,
      4,
      () => countsB.allowed >= 97 || Date.now() - started > 5000,
      countsB,
    );
    const ms = Date.now() - started;
    expect(countsB.allowed).toBe(97);
    // B got A's 7 unused only once A had been idle for idleReturnMs.
    expect(ms).toBeGreaterThanOrEqual(400);
    expect(ms).toBeLessThan(3000);
    expect((await b.take(keyId, limit)).allowed).toBe(false);
    expect((await a.take(keyId, limit)).allowed).toBe(false);
  });

  it('answers the RateLimit headers: limit, what is left, seconds to the window end; Retry-After when refused', async () => {
    const d = deployment();
    const clock = hourClock();
    const limiter = await d.limiter({ now: clock.now });
    const keyId = mintApiKey().id;
    const limit = { requests: 3, windowSeconds: 60 };
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.take(keyId, limit));
    expect(decisions.map((x) => [x.allowed, x.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    // One second into the hour: 59 s left of a 60 s window.
    expect(decisions[3]!.resetSeconds).toBe(59);
    expect(rateLimitHeaders(decisions[3]!)).toEqual({
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '59',
      'Retry-After': '59',
    });
    expect(rateLimitHeaders(decisions[0]!)).not.toHaveProperty('Retry-After');
    // The next window starts afresh.
    clock.advance(60_000);
    expect(await limiter.take(keyId, limit)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('costs at most 3 NATS requests per 1,000 requests at the default 6,000 per 60 s', async () => {
    const d = deployment();
    const registry = new Registry();
    const clock = hourClock();
    const limiter = await d.limiter({ now: clock.now, registry });
    const keyId = mintApiKey().id;
    for (let i = 0; i < 1000; i++) expect((await limiter.take(keyId)).allowed).toBe(true);
    const ops = await natsRequests(registry);
    const total = Object.values(ops).reduce((x, y) => x + y, 0);
    // One create of 600, one update of 540 (10 % of what is left each time).
    expect(ops).toEqual({ create: 1, update: 1 });
    expect(total).toBeLessThanOrEqual(3);
  });

  it('refuses to count a window longer than an hour, and is UNAVAILABLE when NATS is gone', async () => {
    const d = deployment();
    const limiter = await d.limiter();
    const keyId = mintApiKey().id;
    await expect(limiter.take(keyId, { requests: 1, windowSeconds: 3601 })).rejects.toThrow(
      RangeError,
    );
    await connections[0]!.close();
    const err = await limiter.take(keyId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
  });
});
