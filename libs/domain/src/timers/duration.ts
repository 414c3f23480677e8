/**
 * ISO 8601 durations for timed transitions (`after`), and adding them to an instant.
 *
 * Accepted: `PnYnMnDTnHnMnS` (any components, at least one, in that order) or `PnW` alone, with
 * non-negative integers; seconds may have up to 3 decimals (`PT1.5S`), nothing else may. Refused:
 * lowercase designators, `,` as the decimal mark, signs, weeks mixed with other components.
 *
 * Years and months are calendar units, because that is what "P1M" means to a user ("the same day
 * next month"): they are added to the UTC date first, the day clamped to the end of a shorter
 * month (31 Jan + P1M = 28 or 29 Feb; 29 Feb 2024 + P1Y = 28 Feb 2025); then weeks, days (24 h:
 * the arithmetic is in UTC, so there is no DST) and the time part are added as exact milliseconds.
 *
 * Bounds: at least 1 s and at most 10 years, a year counting as the Gregorian average of
 * 365.2425 days and a month as a twelfth of it for the bound only, so `P10Y`, `P120M` and
 * `P3652D` are accepted and `P3653D` is not. Any duration with a month in it is over 28 days.
 */

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/** 400 Gregorian years have 146,097 days; a twelfth of their average year is 2,629,746,000 ms. */
const AVERAGE_MONTH_MS = (146_097 * MS_PER_DAY) / (400 * 12);

export const MIN_TIMER_DURATION_MS = MS_PER_SECOND;
export const MAX_TIMER_DURATION_MS = 120 * AVERAGE_MONTH_MS;

/** A parsed duration: calendar months (years × 12 + months) and exact milliseconds. */
export interface Duration {
  readonly months: number;
  readonly ms: number;
}

export type DurationResult = { ok: true; duration: Duration } | { ok: false; message: string };

const CALENDAR =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$/;
const WEEKS = /^P(\d+)W$/;

/** Parse and bound an `after` value; the message says what is wrong, quoting the value. */
export function parseDuration(text: string): DurationResult {
  const quoted = JSON.stringify(text);
  const duration = durationOf(text);
  if (duration === 'fraction') {
    return {
      ok: false,
      message: `${quoted}: only seconds may have a fraction, of at most 3 digits (milliseconds)`,
    };
  }
  if (duration === null) {
    return {
      ok: false,
      message: `${quoted} is not an ISO 8601 duration PnYnMnDTnHnMnS or PnW (e.g. "PT48H")`,
    };
  }
  const nominal = duration.months * AVERAGE_MONTH_MS + duration.ms;
  if (nominal < MIN_TIMER_DURATION_MS) {
    return { ok: false, message: `${quoted} is shorter than the minimum of 1 second` };
  }
  if (nominal > MAX_TIMER_DURATION_MS) {
    return { ok: false, message: `${quoted} is longer than the maximum of 10 years` };
  }
  return { ok: true, duration };
}

function durationOf(text: string): Duration | 'fraction' | null {
  const weeks = WEEKS.exec(text);
  if (weeks) return { months: 0, ms: Number(weeks[1]) * 7 * MS_PER_DAY };
  const m = CALENDAR.exec(text);
  // `P` alone matches every optional group empty: it names no component.
  if (!m || text === 'P') return null;
  const [, years, months, days, hours, minutes, seconds, fraction] = m;
  if (fraction !== undefined && fraction.length > 3) return 'fraction';
  const n = (digits: string | undefined): number => (digits === undefined ? 0 : Number(digits));
  return {
    months: n(years) * 12 + n(months),
    ms:
      n(days) * MS_PER_DAY +
      n(hours) * MS_PER_HOUR +
      n(minutes) * MS_PER_MINUTE +
      n(seconds) * MS_PER_SECOND +
      (fraction === undefined ? 0 : Number(fraction.padEnd(3, '0'))),
  };
}

/** `startMs` (epoch ms) plus the duration, calendar months first (see the module comment). */
export function addDuration(startMs: number, duration: Duration): number {
  if (duration.months === 0) return startMs + duration.ms;
  const start = new Date(startMs);
  const monthIndex = start.getUTCMonth() + duration.months;
  const year = start.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = monthIndex % 12;
  const day = Math.min(start.getUTCDate(), daysInMonth(year, month));
  const shifted = new Date(startMs);
  shifted.setUTCFullYear(year, month, day);
  return shifted.getTime() + duration.ms;
}

function daysInMonth(year: number, month: number): number {
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month + 1, 0);
  return lastDay.getUTCDate();
}
