import type { KV } from '@nats-io/kv';
import type { Registry } from 'prom-client';
import { classifyNatsError, decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { RateLimitCounter, RateLimitSetting } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { MAX_WINDOW_SECONDS } from './buckets';
import { AuthError, unavailableOnOutage } from './errors';
import { rateLimitMetrics, type RateLimitMetrics } from './metrics';

/** What one request may do, and what the RateLimit-* headers say. */
export interface RateDecision {
  allowed: boolean;
  /** RateLimit-Limit: requests per window. */
  limit: number;
  /**
   * RateLimit-Remaining: what this gateway knows is left in the window (its unused block plus
   * what no gateway had taken when it last looked): exact at the limit, an estimate before it.
   */
  remaining: number;
  /** RateLimit-Reset (and Retry-After when refused): seconds until the window ends, at least 1. */
  resetSeconds: number;
}

export interface RateLimiterOptions {
  /** The rate-limit bucket (ensureAuthBuckets). */
  kv: KV;
  naming: Naming;
  logger: Logger;
  /** For keys without a limit of their own: RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_S. */
  defaultLimit: RateLimitSetting;
  /** Share of what is left in a window one lease takes (default 0.1; at least 1 request). */
  share?: number;
  /** An unused block is given back after this long without a request (default 1000 ms). */
  idleReturnMs?: number;
  /** Once a window is used up here, NATS is asked again at most this often (default 100 ms). */
  recheckMs?: number;
  registry?: Registry;
  now?: () => number;
}

/** One key's window on this gateway. */
interface Slot {
  readonly kvKey: string;
  readonly windowStart: number;
  readonly windowSeconds: number;
  readonly limit: number;
  /** Quota leased by this gateway and not used yet. */
  local: number;
  /** The counter as last read or written: quota taken by all gateways, and its revision. */
  used: number;
  revision: number;
  known: boolean;
  exhaustedAt: number;
  lastUsedAt: number;
  /** Requests waiting for quota here. */
  waiting: number;
  /** The lease or give-back in flight: one counter write at a time per slot. */
  busy: Promise<void> | null;
}

const CAS_ATTEMPTS = 10;
const ROUNDS = 16;

/**
 * Rate limits per key in fixed windows, exact across gateways, on KV compare-and-set (NATS 2.9:
 * CAS and a bucket-wide age, no per-key TTL). The counter `<keyId>.<windowStart>` holds the quota
 * all gateways have taken in the window; it only ever grows by compare-and-set, up to the limit,
 * and each gateway serves only what it took, so no window ever passes more than `requests`.
 *
 * A gateway takes blocks (leases) of the quota: 10 % of what is left (at least 1, or as many as
 * requests are waiting here), serving them from memory, so most requests cost no NATS write; near
 * the limit the blocks shrink to one request each. A block unused for `idleReturnMs` is given back
 * (the counter decremented by CAS), so quota is never stranded on a gateway whose clients
 * stopped: when clients keep asking, the whole quota passes. A refused request reads the counter
 * again at most every `recheckMs`, to see what was given back. Counters expire with the bucket
 * (2 × the longest window). Windows follow each gateway's clock: keep gateways on NTP.
 */
export class RateLimiter {
  private readonly slots = new Map<string, Slot>();
  private readonly share: number;
  private readonly idleReturnMs: number;
  private readonly recheckMs: number;
  private readonly metrics: RateLimitMetrics | undefined;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RateLimiterOptions) {
    this.share = options.share ?? 0.1;
    this.idleReturnMs = options.idleReturnMs ?? 1000;
    this.recheckMs = options.recheckMs ?? 100;
    this.now = options.now ?? Date.now;
    this.metrics = options.registry ? rateLimitMetrics(options.registry) : undefined;
    checkSetting(options.defaultLimit);
    this.timer = setInterval(() => this.sweep(), Math.max(50, this.idleReturnMs / 2));
    this.timer.unref();
  }

  /**
   * Count one request of `keyId` against its limit (the default when absent). Throws AuthError
   * UNAVAILABLE when NATS cannot serve a lease (HTTP 503, not 429). The root credential is not
   * limited: do not call this for it.
   */
  async take(
    keyId: string,
    limit: RateLimitSetting = this.options.defaultLimit,
  ): Promise<RateDecision> {
    for (let round = 0; round < ROUNDS; round++) {
      const now = this.now();
      const slot = this.slotOf(keyId, limit, now);
      if (slot.local > 0) {
        slot.local--;
        slot.lastUsedAt = now;
        return this.decide(true, slot, now);
      }
      if (now - slot.exhaustedAt < this.recheckMs) return this.decide(false, slot, now);
      slot.waiting++;
      try {
        await (slot.busy ?? this.writing(slot, () => this.lease(slot)));
      } finally {
        slot.waiting--;
      }
    }
    // Quota kept going to other requests: refuse this one rather than wait on.
    const now = this.now();
    return this.decide(false, this.slotOf(keyId, limit, now), now);
  }

  /** Give every unused block back (best effort), e.g. at shutdown. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        await slot.busy?.catch(() => undefined);
        if (slot.local > 0) await this.giveBack(slot).catch(() => undefined);
      }),
    );
    this.slots.clear();
  }

  private slotOf(keyId: string, limit: RateLimitSetting, now: number): Slot {
    checkSetting(limit);
    const windowStart = Math.floor(now / 1000 / limit.windowSeconds) * limit.windowSeconds;
    const current = this.slots.get(keyId);
    if (
      current &&
      current.windowStart === windowStart &&
      current.windowSeconds === limit.windowSeconds &&
      current.limit === limit.requests
    ) {
      return current;
    }
    const slot: Slot = {
      kvKey: this.options.naming.rateLimitKey(keyId, windowStart),
      windowStart,
      windowSeconds: limit.windowSeconds,
      limit: limit.requests,
      local: 0,
      // Optimistic: the first gateway of a window creates the counter without reading it first.
      used: 0,
      revision: 0,
      known: true,
      exhaustedAt: -Infinity,
      lastUsedAt: now,
      waiting: 0,
      busy: null,
    };
    this.slots.set(keyId, slot);
    return slot;
  }

  private writing(slot: Slot, work: () => Promise<void>): Promise<void> {
    const busy = work().finally(() => {
      if (slot.busy === busy) slot.busy = null;
    });
    slot.busy = busy;
    return busy;
  }

  /** Take a block of the window's quota by CAS, or learn that none is left. */
  private async lease(slot: Slot): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const fresh = !slot.known;
      if (fresh) await this.read(slot);
      const left = slot.limit - slot.used;
      if (left <= 0) {
        // Used up as far as this gateway knew: look again (others may have given blocks back).
        if (!fresh) {
          slot.known = false;
          continue;
        }
        slot.exhaustedAt = this.now();
        return;
      }
      const want = Math.min(left, Math.max(1, Math.ceil(left * this.share), slot.waiting));
      if (await this.write(slot, slot.used + want, slot.revision === 0 ? 'create' : 'update')) {
        slot.used += want;
        slot.local += want;
        return;
      }
    }
    throw new AuthError('UNAVAILABLE', 'the rate-limit counter kept changing; try again');
  }

  /** Return an unused block: the counter goes down by what this gateway will not serve. */
  private async giveBack(slot: Slot): Promise<void> {
    const amount = slot.local;
    slot.local = 0;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if (!slot.known) await this.read(slot);
      if (await this.write(slot, Math.max(0, slot.used - amount), 'return')) {
        slot.used = Math.max(0, slot.used - amount);
        return;
      }
    }
    // Lost quota, never extra quota: the counter only overstates what was served.
    this.options.logger.debug({ amount }, 'could not give an unused rate-limit block back');
  }

  private async read(slot: Slot): Promise<void> {
    this.metrics?.nats.inc({ op: 'get' });
    const entry = await unavailableOnOutage('rate-limit counter', () =>
      this.options.kv.get(slot.kvKey),
    );
    const counter =
      entry?.operation === 'PUT'
        ? (decodeJson(entry.value) as RateLimitCounter | undefined)
        : undefined;
    slot.used = typeof counter?.used === 'number' ? counter.used : 0;
    slot.revision = entry?.revision ?? 0;
    slot.known = true;
  }

  /** Compare-and-set the counter to `used`; false when another gateway wrote first. */
  private async write(
    slot: Slot,
    used: number,
    op: 'create' | 'update' | 'return',
  ): Promise<boolean> {
    this.metrics?.nats.inc({ op });
    const value = encodeJson({ used, limit: slot.limit } satisfies RateLimitCounter);
    try {
      slot.revision = await unavailableOnOutage('rate-limit counter', () =>
        slot.revision === 0
          ? this.options.kv.create(slot.kvKey, value)
          : this.options.kv.update(slot.kvKey, value, slot.revision),
      );
      return true;
    } catch (err) {
      if (classifyNatsError(err).code !== 'WRONG_LAST_SEQUENCE') throw err;
      slot.known = false;
      return false;
    }
  }

  private decide(allowed: boolean, slot: Slot, now: number): RateDecision {
    this.metrics?.decisions.inc({ outcome: allowed ? 'allowed' : 'limited' });
    const end = (slot.windowStart + slot.windowSeconds) * 1000;
    return {
      allowed,
      limit: slot.limit,
      remaining: allowed ? Math.max(0, slot.limit - slot.used) + slot.local : 0,
      resetSeconds: Math.max(1, Math.ceil((end - now) / 1000)),
    };
  }

  /** Forget past windows; give idle blocks back. */
  private sweep(): void {
    const now = this.now();
    for (const [keyId, slot] of this.slots) {
      if (now >= (slot.windowStart + slot.windowSeconds) * 1000) {
        if (!slot.busy) this.slots.delete(keyId);
        continue;
      }
      if (slot.local > 0 && !slot.busy && now - slot.lastUsedAt >= this.idleReturnMs) {
        void this.writing(slot, () => this.giveBack(slot)).catch((err: unknown) =>
          this.options.logger.debug({ err }, 'rate-limit give-back failed'),
        );
      }
    }
  }
}

/** The response headers of a decision (RateLimit-* always, Retry-After when refused). */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(decision.resetSeconds),
    ...(decision.allowed ? {} : { 'Retry-After': String(decision.resetSeconds) }),
  };
}

function checkSetting(limit: RateLimitSetting): void {
  const { requests, windowSeconds } = limit;
  if (!Number.isSafeInteger(requests) || requests < 1) {
    throw new RangeError(`rate limit requests must be a positive integer, got ${requests}`);
  }
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
    throw new RangeError(
      `rate limit window must be 1 to ${MAX_WINDOW_SECONDS} s, got ${windowSeconds}`,
    );
  }
}
