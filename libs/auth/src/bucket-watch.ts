import type { KV } from '@nats-io/kv';
import type { Logger } from '@cb/logging';

export interface BucketWatchOptions {
  kv: KV;
  /** For logs. */
  name: string;
  logger: Logger;
  /** A key changed (put, delete, purge): whatever is cached about it is stale. */
  onChange: (key: string) => void;
  /**
   * Changes may have been missed (the watch was lost, or fell behind the bucket): everything
   * cached from the bucket is stale. Called when the watch is lost and when it is (re)established.
   */
  onReset: () => void;
  /** How often the watch is checked against the bucket (default 500 ms). */
  probeIntervalMs?: number;
  now?: () => number;
}

/**
 * One long-lived watch of a bucket (headers only, changes only), and the proof that it is
 * current. Every `probeIntervalMs` the bucket's last sequence is read (one stream info); if the
 * watch has not delivered, by the next probe, what the previous one saw stored, the watch is
 * stale (its consumer was lost, e.g. with a cluster node) and is re-created from where it was;
 * if a probe fails, trust lapses after two intervals. So whatever is cached from the bucket is
 * trusted only while changes are known to arrive within about two probe intervals.
 */
export class BucketWatch {
  private lastRevision = 0;
  private iter: { stop(): void } | null = null;
  private running = false;
  private stopped = false;
  private trustedUntil = 0;
  private probeSeq: number | undefined;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private loop: Promise<void> | null = null;
  /** Ends the back-off between two attempts early: stop() must not wait it out (up to 5 s). */
  private wake: (() => void) | null = null;
  private readonly probeIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: BucketWatchOptions) {
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** Start watching; resolves once the first watch is established or its first attempt failed. */
  start(): Promise<void> {
    let first: () => void = () => undefined;
    const established = new Promise<void>((resolve) => (first = resolve));
    this.loop = this.run(() => first());
    this.timer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.timer.unref();
    return established;
  }

  /** Whether changes to the bucket are known to reach this watch in time. */
  get trusted(): boolean {
    return this.running && this.now() < this.trustedUntil;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.iter?.stop();
    this.wake?.();
    await this.loop;
  }

  private async run(onFirstAttempt: () => void): Promise<void> {
    const { kv, logger, name } = this.options;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        if (this.lastRevision === 0) {
          // First start: only what comes after the bucket's current last sequence is a change.
          this.lastRevision = (await kv.status()).streamInfo.state.last_seq;
        }
        const iter = await kv.watch({
          key: '>',
          headers_only: true,
          resumeFromRevision: this.lastRevision + 1,
        });
        this.iter = iter;
        if (this.stopped) iter.stop();
        this.running = true;
        this.probeSeq = undefined;
        this.trustedUntil = this.now() + 2 * this.probeIntervalMs;
        this.options.onReset();
        if (attempt > 0) logger.info({ bucket: name }, 'bucket watch re-established');
        attempt = 0;
        onFirstAttempt();
        for await (const e of iter) {
          if (e.revision > this.lastRevision) this.lastRevision = e.revision;
          this.options.onChange(e.key);
        }
      } catch (err) {
        if (this.stopped) break;
        if (attempt === 0) logger.warn({ err, bucket: name }, 'bucket watch failed; retrying');
      } finally {
        if (this.running) {
          this.running = false;
          this.options.onReset();
        }
        this.iter = null;
        onFirstAttempt();
      }
      if (!this.stopped) await this.backOff(Math.min(5000, 250 * 2 ** attempt));
    }
  }

  /** Wait `ms` before the next attempt, or until stop(). */
  private backOff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  private async probe(): Promise<void> {
    if (!this.running || this.probing || this.stopped) return;
    this.probing = true;
    try {
      const started = this.now();
      const lastSeq = (await this.options.kv.status()).streamInfo.state.last_seq;
      if (!this.running) return;
      if (this.probeSeq !== undefined && this.lastRevision < this.probeSeq) {
        this.options.logger.warn(
          { bucket: this.options.name, delivered: this.lastRevision, stored: this.probeSeq },
          'bucket watch fell behind; re-creating it',
        );
        this.iter?.stop();
        return;
      }
      this.probeSeq = lastSeq;
      this.trustedUntil = started + 2 * this.probeIntervalMs;
    } catch {
      // NATS did not answer: trust lapses by itself.
    } finally {
      this.probing = false;
    }
  }
}
