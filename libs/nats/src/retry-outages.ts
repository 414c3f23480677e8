import type { Logger } from '@cb/logging';
import { isNatsOutage } from './outage';

export interface RetryOutagesOptions {
  /** What is being done, for the log. */
  what: string;
  logger: Logger;
  /** Give up (throw the last error) after this long; default two minutes. */
  withinMs?: number;
}

/**
 * Run idempotent set-up work, retrying it with back-off (250 ms doubling to 5 s) while NATS cannot
 * serve it (an outage: see isNatsOutage) — a cluster electing a leader, or nats-server 2.9 leaving
 * one of two concurrent creations of the same R3 bucket unanswered. Other errors throw at once.
 */
export async function retryOutages<T>(
  work: () => Promise<T>,
  options: RetryOutagesOptions,
): Promise<T> {
  const deadline = Date.now() + (options.withinMs ?? 120_000);
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      const pause = Math.min(5000, 250 * 2 ** attempt);
      if (!isNatsOutage(err) || Date.now() + pause > deadline) throw err;
      options.logger.warn(
        { err, what: options.what, attempt: attempt + 1 },
        'NATS could not do it now; retrying',
      );
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
