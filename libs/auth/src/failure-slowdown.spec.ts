import { FailureSlowdown, addressKey } from './failure-slowdown';

describe('FailureSlowdown', () => {
  let t = 0;
  const now = () => t;
  beforeEach(() => {
    t = 1_000_000;
  });

  it('lets a few failures through at once, then doubles the delay up to the cap', () => {
    const s = new FailureSlowdown({ now, freeFailures: 5, baseDelayMs: 50, maxDelayMs: 1000 });
    const delays = Array.from({ length: 12 }, () => s.failed('10.0.0.1'));
    expect(delays.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(delays.slice(5, 10)).toEqual([50, 100, 200, 400, 800]);
    expect(delays.slice(10)).toEqual([1000, 1000]);
    // Another address is not slowed down by the first one's failures.
    expect(s.failed('10.0.0.2')).toBe(0);
  });

  it('forgets failures with time (the score halves every half-life)', () => {
    const s = new FailureSlowdown({ now, halfLifeMs: 10_000 });
    for (let i = 0; i < 20; i++) s.failed('10.0.0.1');
    expect(s.delayFor('10.0.0.1')).toBe(1000);
    t += 10_000 * 5; // 20 → 0.6
    expect(s.delayFor('10.0.0.1')).toBe(0);
  });

  it('never delays when the cap is 0', () => {
    const s = new FailureSlowdown({ now, maxDelayMs: 0 });
    for (let i = 0; i < 50; i++) expect(s.failed('10.0.0.1')).toBe(0);
  });

  it('keeps at most maxAddresses in memory, whatever the number of addresses failing', () => {
    const s = new FailureSlowdown({ now, maxAddresses: 100 });
    for (let i = 0; i < 10_000; i++) s.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(s.size).toBe(100);
  });

  it('counts IPv6 per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey(undefined)).toBe('unknown');
    const s = new FailureSlowdown({ now, freeFailures: 1 });
    s.failed('2001:db8:1:2::a');
    expect(s.failed('2001:db8:1:2::b')).toBeGreaterThan(0);
  });
});
