import { RESTART_MAX_MS, restartDelay } from './backoff';

describe('restartDelay', () => {
  it('starts at 0.5 s and doubles while the child keeps dying within a minute, up to 30 s', () => {
    const delays: number[] = [];
    let previous: number | undefined;
    for (let i = 0; i < 9; i++) {
      previous = restartDelay(previous, 1000);
      delays.push(previous);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(Math.max(...delays)).toBe(RESTART_MAX_MS);
  });

  it('starts over after a minute of uptime', () => {
    expect(restartDelay(16_000, 59_999)).toBe(30_000);
    expect(restartDelay(16_000, 60_000)).toBe(500);
  });
});
