import { type Hourly } from '@cb/schemas';

/** How many hours of created/completed counts stats keep: one week. */
export const HOURLY_WINDOW_HOURS = 7 * 24;

const HOUR_MS = 3_600_000;

/** The UTC hour of a timestamp, `YYYY-MM-DDTHH`: the key of `hourly`. */
export function hourKey(timestamp: string | number): string {
  const ms = typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  if (Number.isNaN(ms)) return String(timestamp).slice(0, 13);
  return new Date(ms).toISOString().slice(0, 13);
}

/**
 * Keep the HOURLY_WINDOW_HOURS hours ending with the newest hour present. It depends only on the
 * counts (never on a clock), so applying the same events in any batches gives the same result.
 */
export function pruneHourly(hourly: Hourly): Hourly {
  const hours = Object.keys(hourly);
  if (hours.length <= 1) return hourly;
  const newest = hours.reduce((a, b) => (b > a ? b : a));
  // Fixed-width ISO hours order as strings do.
  const oldest = hourKey(Date.parse(`${newest}:00:00.000Z`) - (HOURLY_WINDOW_HOURS - 1) * HOUR_MS);
  return Object.fromEntries(Object.entries(hourly).filter(([hour]) => hour >= oldest));
}
