import { boundedProbe } from './bounded-probe';

const never = (): Promise<unknown> => new Promise(() => undefined);

describe('boundedProbe', () => {
  it('answers within its bound whatever the probe does', async () => {
    const started = performance.now();
    expect(await boundedProbe(never, 100)()).toBe(false);
    expect(performance.now() - started).toBeLessThan(300);
    expect(await boundedProbe(() => Promise.reject(new Error('no responders')), 100)()).toBe(false);
    expect(await boundedProbe(() => Promise.resolve(null), 100)()).toBe(true);
  });

  it('shares the probe in flight between concurrent checks, and probes again afterwards', async () => {
    let calls = 0;
    const check = boundedProbe(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
    }, 1000);
    expect(await Promise.all([check(), check(), check()])).toEqual([true, true, true]);
    expect(calls).toBe(1);
    await check();
    expect(calls).toBe(2);
  });
});
