import { exhausted, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  const policy = { baseMs: 1000, maxMs: 600_000, maxAttempts: 8 };

  it('waits the base after the first failure, doubling after each next one, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, policy))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
    expect(retryDelayMs(11, policy)).toBe(600_000);
    expect(retryDelayMs(10_000, policy)).toBe(600_000);
    expect(retryDelayMs(0, policy)).toBe(1000);
  });

  it('gives an event up once it failed maxAttempts times', () => {
    expect(exhausted(7, policy)).toBe(false);
    expect(exhausted(8, policy)).toBe(true);
    expect(exhausted(1, { ...policy, maxAttempts: 1 })).toBe(true);
  });
});
