export interface QuarantineOptions {
  /** Overruns within `windowMs` that put a transition in quarantine. */
  strikes: number;
  windowMs: number;
  /** How long a quarantined transition is refused at once. */
  cooldownMs: number;
  /** Transitions tracked at most (the oldest are forgotten first). */
  maxTracked?: number;
  now?: () => number;
}

/**
 * Which guards keep overrunning their budget. A transition whose guard overran `strikes` times
 * within `windowMs` is quarantined for `cooldownMs`: its guard is not evaluated, so a hostile guard
 * cannot keep a core busy. After the cool-down it gets a fresh start.
 */
export class Quarantine {
  private readonly strikes = new Map<string, number[]>();
  private readonly until = new Map<string, number>();
  /** Group (e.g. a definition) → when one of its keys last overran. */
  private readonly groups = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxTracked: number;

  constructor(private readonly options: QuarantineOptions) {
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTracked ?? 10_000;
  }

  /**
   * Record an overrun of `key` (in `group`, when given); returns the end of the quarantine it
   * starts, if it starts one.
   */
  strike(key: string, group?: string): number | undefined {
    const now = this.now();
    if (group !== undefined) {
      this.groups.delete(group);
      this.groups.set(group, now);
      bound(this.groups, this.maxTracked);
    }
    const recent = (this.strikes.get(key) ?? []).filter((t) => now - t < this.options.windowMs);
    recent.push(now);
    this.strikes.delete(key);
    if (recent.length >= this.options.strikes) {
      const end = now + this.options.cooldownMs;
      this.until.delete(key);
      this.until.set(key, end);
      bound(this.until, this.maxTracked);
      return end;
    }
    this.strikes.set(key, recent);
    bound(this.strikes, this.maxTracked);
    return undefined;
  }

  /** The end of the key's quarantine, or undefined when it is not (or no longer) quarantined. */
  quarantinedUntil(key: string): number | undefined {
    const end = this.until.get(key);
    if (end === undefined) return undefined;
    if (end > this.now()) return end;
    this.until.delete(key);
    return undefined;
  }

  /** Whether a key of `group` overran within the window. */
  hasStrikes(group: string): boolean {
    const at = this.groups.get(group);
    if (at === undefined) return false;
    if (this.now() - at < this.options.windowMs) return true;
    this.groups.delete(group);
    return false;
  }

  /** Transitions in quarantine now. */
  get active(): number {
    const now = this.now();
    for (const [key, end] of this.until) if (end <= now) this.until.delete(key);
    return this.until.size;
  }
}

function bound<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as string);
}
