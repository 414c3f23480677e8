/**
 * An RFC 3339 date-time (`2024-05-01T09:00:00Z`, `2024-05-01t11:00:00.5+02:00`) as epoch
 * milliseconds, or `null`. Stricter than `Date.parse`, which rolls 30 February over to 1 March:
 * every field must be in range for its calendar month, an offset is required (`Z` or ±hh:mm),
 * a fraction is cut to milliseconds, a leap second (`:60`) is refused, as JavaScript time
 * cannot represent it, and so is an offset that takes the instant out of the years 0000–9999.
 */
export function parseRfc3339(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [fraction = '', zulu, sign, offsetHour = '0', offsetMinute = '0'] = m.slice(7);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (zulu === undefined && (Number(offsetHour) > 23 || Number(offsetMinute) > 59)) return null;
  const instant = new Date(0);
  instant.setUTCFullYear(year, month - 1, day);
  instant.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  const offsetMs = (Number(offsetHour) * 60 + Number(offsetMinute)) * 60_000;
  const ms = instant.getTime() - (sign === '-' ? -offsetMs : offsetMs);
  return ms >= FIRST_MS && ms <= LAST_MS ? ms : null;
}

// In UTC the instant must still have a 4-digit year, so that it prints as RFC 3339 again.
const FIRST_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_MS = Date.parse('9999-12-31T23:59:59.999Z');

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}
