import { hourKey, HOURLY_WINDOW_HOURS, pruneHourly } from './hourly';

describe('hourKey', () => {
  it('is the UTC hour of the timestamp', () => {
    expect(hourKey('2024-05-01T10:59:59.999Z')).toBe('2024-05-01T10');
    expect(hourKey('2024-05-01T00:30:00+02:00')).toBe('2024-04-30T22');
    expect(hourKey(Date.parse('2024-12-31T23:00:00Z'))).toBe('2024-12-31T23');
  });
});

describe('pruneHourly', () => {
  it('keeps exactly the week ending with the newest hour', () => {
    const start = Date.parse('2024-05-01T00:00:00Z');
    const hourly = Object.fromEntries(
      Array.from({ length: 200 }, (_, h) => [
        hourKey(start + h * 3_600_000),
        { created: h, completed: 0 },
      ]),
    );

    const kept = pruneHourly(hourly);

    expect(Object.keys(kept)).toHaveLength(HOURLY_WINDOW_HOURS);
    expect(Object.values(kept)[0]).toEqual({ created: 200 - HOURLY_WINDOW_HOURS, completed: 0 });
    expect(kept['2024-05-09T07']).toEqual({ created: 199, completed: 0 });
  });

  it('leaves an empty or single-hour record alone', () => {
    expect(pruneHourly({})).toEqual({});
    const one = { '2024-05-01T10': { created: 1, completed: 0 } };
    expect(pruneHourly(one)).toEqual(one);
  });
});
