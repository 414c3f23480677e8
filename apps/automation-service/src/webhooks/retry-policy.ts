/** How failed deliveries are retried (WEBHOOK_RETRY_BASE_MS, WEBHOOK_RETRY_MAX_MS, WEBHOOK_MAX_ATTEMPTS). */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/**
 * The wait after the `failedAttempts`-th failed attempt of an event: the base, doubling at every
 * attempt, capped at `maxMs`. Deterministic: webhooks are consumed one event at a time each, so
 * retries of different webhooks do not synchronise the way clients of one server would.
 */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, failedAttempts - 1);
  // 2 ** 40 ms is decades: past that the cap applies anyway, and the product stays finite.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 40));
}

/** Whether an event that failed `attempts` times is given up on (dead-lettered). */
export function exhausted(attempts: number, policy: RetryPolicy): boolean {
  return attempts >= policy.maxAttempts;
}
