import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';

export interface FailureSlowdownOptions {
  /** Longest delay, ms (default 1000). 0: never delays. */
  maxDelayMs?: number;
  /** Failures (after decay) an address makes without any delay (default 5). */
  freeFailures?: number;
  /** Delay of the first failure past the free ones, doubling with each further one (default 50 ms). */
  baseDelayMs?: number;
  /** Half-life of an address's failure score (default 60 s). */
  halfLifeMs?: number;
  /** Addresses remembered at most; the least recently failing are forgotten first (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface Score {
  value: number;
  at: number;
}

/**
 * Slows down repeated authentication failures from one address: a delay only, the answer stays
 * the same 401. Each address has a failure score that halves every `halfLifeMs`; past
 * `freeFailures` each failure is answered after `baseDelayMs × 2^(score − free − 1)`, at most
 * `maxDelayMs`. Memory is bounded by `maxAddresses` (LRU); IPv6 addresses count per /64, the
 * block one host usually holds, so rotating addresses within it does not reset the score.
 */
export class FailureSlowdown {
  private readonly scores: LRUCache<string, Score>;
  private readonly maxDelayMs: number;
  private readonly freeFailures: number;
  private readonly baseDelayMs: number;
  private readonly halfLifeMs: number;
  private readonly now: () => number;

  constructor(options: FailureSlowdownOptions = {}) {
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.freeFailures = options.freeFailures ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.halfLifeMs = options.halfLifeMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.scores = new LRUCache({ max: options.maxAddresses ?? 10_000 });
  }

  /** Record a failure from `address`; returns how long to wait (ms) before answering it. */
  failed(address: string | undefined): number {
    const key = addressKey(address);
    const now = this.now();
    const value = this.decayed(this.scores.get(key), now) + 1;
    this.scores.set(key, { value, at: now });
    return this.delayOf(value);
  }

  /** The delay the next failure from `address` would get, without recording one. */
  delayFor(address: string | undefined): number {
    const score = this.scores.peek(addressKey(address));
    return this.delayOf(this.decayed(score, this.now()) + 1);
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.scores.size;
  }

  private decayed(score: Score | undefined, now: number): number {
    if (!score) return 0;
    return score.value * 2 ** (-Math.max(0, now - score.at) / this.halfLifeMs);
  }

  private delayOf(score: number): number {
    const over = score - this.freeFailures;
    if (over <= 0 || this.maxDelayMs <= 0) return 0;
    return Math.min(this.maxDelayMs, Math.round(this.baseDelayMs * 2 ** (over - 1)));
  }
}

/** The unit an address is counted in: an IPv4 address, or an IPv6 /64. */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
