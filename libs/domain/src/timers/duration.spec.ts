import {
  addDuration,
  MAX_TIMER_DURATION_MS,
  MIN_TIMER_DURATION_MS,
  parseDuration,
  type Duration,
} from './duration';

function duration(text: string): Duration {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.duration;
}

function refusal(text: string): string {
  const parsed = parseDuration(text);
  if (parsed.ok) throw new Error(`${text} was accepted`);
  return parsed.message;
}

const utc = (iso: string): number => Date.parse(iso);
const plus = (iso: string, text: string): string =>
  new Date(addDuration(utc(iso), duration(text))).toISOString();

describe('parseDuration', () => {
  it.each([
    ['PT1S', 0, 1000],
    ['PT1.5S', 0, 1500],
    ['PT1.250S', 0, 1250],
    ['PT30M', 0, 30 * 60_000],
    ['PT48H', 0, 48 * 3_600_000],
    ['P2D', 0, 2 * 86_400_000],
    ['P1W', 0, 7 * 86_400_000],
    ['P1DT2H3M4.5S', 0, 86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4500],
    ['PT90M', 0, 90 * 60_000],
    ['P1M', 1, 0],
    ['P1Y2M', 14, 0],
    ['P1YT1S', 12, 1000],
  ])('%s → months %p, ms %p', (text, months, ms) => {
    expect(duration(text)).toEqual({ months, ms });
  });

  it('refuses anything under 1 s, zero included', () => {
    for (const text of ['PT0.5S', 'PT0.999S', 'PT0.001S', 'PT0S', 'P0D', 'P0Y0M', 'PT0H0M0S']) {
      expect(refusal(text)).toBe(`"${text}" is shorter than the minimum of 1 second`);
    }
    expect(MIN_TIMER_DURATION_MS).toBe(1000);
  });

  it('accepts up to 10 years (a Gregorian average year each) and refuses more', () => {
    for (const text of ['P10Y', 'P120M', 'P9Y12M', 'P3652D', 'P521W', 'PT87658H']) {
      expect(parseDuration(text).ok).toBe(true);
    }
    for (const text of ['P10YT1S', 'P121M', 'P3653D', 'P522W', 'PT87659H', `P${'9'.repeat(40)}Y`]) {
      expect(refusal(text)).toBe(`"${text}" is longer than the maximum of 10 years`);
    }
    expect(MAX_TIMER_DURATION_MS).toBe(3652.425 * 86_400_000);
  });

  it('refuses fractions anywhere but seconds, and beyond milliseconds', () => {
    expect(refusal('PT1.0001S')).toBe(
      '"PT1.0001S": only seconds may have a fraction, of at most 3 digits (milliseconds)',
    );
    expect(refusal('PT1.5H')).toContain('is not an ISO 8601 duration');
  });

  it.each([
    '',
    'P',
    'PT',
    'P1DT',
    '1D',
    'p1d',
    'pt1s',
    'PT1s',
    'P-1D',
    'P+1D',
    '-PT1S',
    'PT1,5S',
    'P1W2D',
    'P1WT1H',
    'PT1S1M',
    'P1D1Y',
    'PT1H ',
    ' PT1H',
    'PT.5S',
    'PT1.S',
    'P1.5D',
    'PT48h',
    'R/PT1H',
    '48h',
  ])('refuses %j with the grammar in the message', (text) => {
    expect(refusal(text)).toBe(
      `${JSON.stringify(text)} is not an ISO 8601 duration PnYnMnDTnHnMnS or PnW (e.g. "PT48H")`,
    );
  });
});

describe('addDuration (UTC, no DST)', () => {
  it('adds exact time for weeks, days, hours, minutes and seconds', () => {
    expect(plus('2024-05-01T10:00:00.000Z', 'PT48H')).toBe('2024-05-03T10:00:00.000Z');
    expect(plus('2024-05-01T10:00:00.000Z', 'PT1.5S')).toBe('2024-05-01T10:00:01.500Z');
    expect(plus('2024-12-31T23:59:59.999Z', 'PT1S')).toBe('2025-01-01T00:00:00.999Z');
    expect(plus('2024-02-28T12:00:00.000Z', 'P1D')).toBe('2024-02-29T12:00:00.000Z');
    expect(plus('2024-02-28T12:00:00.000Z', 'P2W')).toBe('2024-03-13T12:00:00.000Z');
  });

  it('P1D is always 24 h, across the dates European and US clocks change', () => {
    expect(plus('2024-03-31T00:30:00.000Z', 'P1D')).toBe('2024-04-01T00:30:00.000Z');
    expect(plus('2024-03-10T06:00:00.000Z', 'P1D')).toBe('2024-03-11T06:00:00.000Z');
    expect(plus('2024-10-27T00:30:00.000Z', 'PT24H')).toBe('2024-10-28T00:30:00.000Z');
  });

  it('adds months and years on the calendar, clamping to the end of a shorter month', () => {
    expect(plus('2024-01-15T09:00:00.000Z', 'P1M')).toBe('2024-02-15T09:00:00.000Z');
    expect(plus('2024-01-31T09:00:00.000Z', 'P1M')).toBe('2024-02-29T09:00:00.000Z');
    expect(plus('2023-01-31T09:00:00.000Z', 'P1M')).toBe('2023-02-28T09:00:00.000Z');
    expect(plus('2024-03-31T09:00:00.000Z', 'P1M')).toBe('2024-04-30T09:00:00.000Z');
    expect(plus('2024-11-30T09:00:00.000Z', 'P3M')).toBe('2025-02-28T09:00:00.000Z');
    expect(plus('2024-12-31T23:00:00.000Z', 'P1M')).toBe('2025-01-31T23:00:00.000Z');
    expect(plus('2024-02-29T00:00:00.000Z', 'P1Y')).toBe('2025-02-28T00:00:00.000Z');
    expect(plus('2024-02-29T00:00:00.000Z', 'P4Y')).toBe('2028-02-29T00:00:00.000Z');
    expect(plus('2024-05-01T10:00:00.000Z', 'P10Y')).toBe('2034-05-01T10:00:00.000Z');
  });

  it('adds the calendar part first, then the exact part', () => {
    // 31 Jan + 1 month = 29 Feb (clamped), + 1 day = 1 Mar; adding the day first would give 1 Feb + 1 month.
    expect(plus('2024-01-31T00:00:00.000Z', 'P1M1D')).toBe('2024-03-01T00:00:00.000Z');
    expect(plus('2024-01-31T22:00:00.000Z', 'P1MT3H')).toBe('2024-03-01T01:00:00.000Z');
  });
});
