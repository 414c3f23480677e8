/**
 * What the gateway knows about the command service, from its pings: pure, the clock passed in.
 *
 * A pong within the last `staleMs` means a command service answers. A ping answered late (up to
 * `staleMs` after it was sent) still counts, so one ping slowed down by load, or one lost, does
 * not flip readiness; `staleMs` without any pong does (a hung service). NO_RESPONDERS is the
 * server saying that no command service is subscribed at all: that counts at once (a dead one).
 */
export class CommandHealth {
  private lastPongAt: number | undefined;
  private lastNoRespondersAt: number | undefined;

  constructor(
    private readonly startedAt: number,
    readonly staleMs: number,
  ) {}

  pong(at: number): void {
    this.lastPongAt = Math.max(this.lastPongAt ?? at, at);
  }

  noResponders(at: number): void {
    this.lastNoRespondersAt = Math.max(this.lastNoRespondersAt ?? at, at);
  }

  /** For /ready: a pong within `staleMs` and no NO_RESPONDERS since. */
  answering(now: number): boolean {
    return this.lastPongAt !== undefined && !this.down(now);
  }

  /**
   * For writes: known not to answer, so a command would only wait for its timeout. Before the
   * first answer of any kind the service is given `staleMs` from the start.
   */
  down(now: number): boolean {
    const heard = this.lastPongAt ?? this.startedAt;
    if (this.lastNoRespondersAt !== undefined && this.lastNoRespondersAt >= heard) return true;
    return now - heard > this.staleMs;
  }
}
