import { Quarantine } from './quarantine';

describe('Quarantine', () => {
  let now = 0;
  const q = () => new Quarantine({ strikes: 3, windowMs: 1000, cooldownMs: 5000, now: () => now });

  beforeEach(() => {
    now = 10_000;
  });

  it('quarantines after `strikes` overruns within the window, for the cool-down', () => {
    const quarantine = q();
    expect(quarantine.strike('a')).toBeUndefined();
    now += 100;
    expect(quarantine.strike('a')).toBeUndefined();
    now += 100;
    expect(quarantine.strike('a')).toBe(now + 5000);
    expect(quarantine.quarantinedUntil('a')).toBe(now + 5000);
    expect(quarantine.quarantinedUntil('b')).toBeUndefined();
    expect(quarantine.active).toBe(1);
    now += 5000;
    expect(quarantine.quarantinedUntil('a')).toBeUndefined();
    expect(quarantine.active).toBe(0);
  });

  it('tells whether any key of a group overran within the window', () => {
    const quarantine = q();
    expect(quarantine.hasStrikes('def')).toBe(false);
    quarantine.strike('def/t1', 'def');
    expect(quarantine.hasStrikes('def')).toBe(true);
    expect(quarantine.hasStrikes('other')).toBe(false);
    now += 1000;
    expect(quarantine.hasStrikes('def')).toBe(false);
  });

  it('forgets strikes older than the window', () => {
    const quarantine = q();
    quarantine.strike('a');
    quarantine.strike('a');
    now += 1000;
    expect(quarantine.strike('a')).toBeUndefined();
    expect(quarantine.quarantinedUntil('a')).toBeUndefined();
  });

  it('gives a fresh start after the cool-down', () => {
    const quarantine = q();
    for (let i = 0; i < 3; i++) quarantine.strike('a');
    now += 5001;
    expect(quarantine.strike('a')).toBeUndefined();
  });

  it('tracks a bounded number of transitions', () => {
    const quarantine = new Quarantine({
      strikes: 2,
      windowMs: 1000,
      cooldownMs: 5000,
      maxTracked: 10,
      now: () => now,
    });
    for (let i = 0; i < 100; i++) {
      quarantine.strike(`k${i}`);
      expect(quarantine.strike(`k${i}`)).toBe(now + 5000);
    }
    expect(quarantine.active).toBe(10);
    expect(quarantine.quarantinedUntil('k99')).toBe(now + 5000);
    expect(quarantine.quarantinedUntil('k0')).toBeUndefined();
  });
});
