import { kvSubject } from '@cb/subjects';
import { NatsPlatformError } from '@cb/nats';
import { FailureStreak, LOG_EVERY_MS, RETRY_MAX_MS, RETRY_MIN_MS } from './failure-streak';

const outage = new NatsPlatformError(
  'NO_RESPONDERS',
  `no responders on ${kvSubject('cb_stats_1', 'wf.3')}`,
);

describe('FailureStreak', () => {
  it('pauses 250 ms after the first failure, doubling up to 10 s, for as long as it lasts', () => {
    const streak = new FailureStreak();
    const delays = Array.from(
      { length: 12 },
      (_, i) => streak.fail(outage, 'transient', i).delayMs,
    );
    expect(delays).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000,
    ]);
    expect([RETRY_MIN_MS, RETRY_MAX_MS]).toEqual([250, 10_000]);
    // A day of failures later the pause is still bounded.
    for (let i = 0; i < 10_000; i++) streak.fail(outage, 'transient', 100 + i);
    expect(streak.fail(outage, 'transient', 20_000).delayMs).toBe(RETRY_MAX_MS);
  });

  it('knows since when it fails, how often and the last error; ends with a success', () => {
    const streak = new FailureStreak();
    expect(streak.current).toBeNull();
    streak.fail(outage, 'transient', 1000);
    streak.fail(new TypeError('bug'), 'deterministic', 1600);
    expect(streak.current).toEqual({
      since: 1000,
      attempts: 2,
      kind: 'deterministic',
      lastError: { code: 'TypeError', message: 'bug' },
    });
    expect(streak.end()).toMatchObject({ since: 1000, attempts: 2 });
    expect(streak.current).toBeNull();
    expect(streak.end()).toBeNull();
    // The next streak starts over: from its own first failure, with the shortest pause.
    expect(streak.fail(outage, 'transient', 9000)).toEqual({ delayMs: 250, log: true });
    expect(streak.current).toMatchObject({ since: 9000, attempts: 1 });
  });

  it('asks to log the first failure, then at most every 5 s', () => {
    const streak = new FailureStreak();
    const logged = [0, 250, 750, 4999, 5000, 5100, 9000, 10_000, 10_001].filter(
      (now) => streak.fail(outage, 'transient', now).log,
    );
    expect(logged).toEqual([0, 5000, 10_000]);
    expect(LOG_EVERY_MS).toBe(5000);
  });
});
