import type { StatsResponse } from '../api';
import type { BarItem, ColumnItem } from '../components/charts';

const HOUR_MS = 3_600_000;

/** The hours of [from, to) as the stats' `YYYY-MM-DDTHH` keys, oldest first (at most 24 × 31). */
export function hoursOf(from: Date, to: Date, max = 24 * 31): string[] {
  const out: string[] = [];
  let t = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS;
  while (t < to.getTime() && out.length < max) {
    out.push(new Date(t).toISOString().slice(0, 13));
    t += HOUR_MS;
  }
  return out;
}

/** Created / completed per hour over the stats' window, empty hours included. */
export function throughputOf(stats: Pick<StatsResponse, 'hourly' | 'window'>): ColumnItem[] {
  return hoursOf(new Date(stats.window.from), new Date(stats.window.to)).map((h) => ({
    label: `${h.slice(5, 10)} ${h.slice(11)}h`,
    a: stats.hourly[h]?.created ?? 0,
    b: stats.hourly[h]?.completed ?? 0,
  }));
}

/** A record as bars, in the order of `order` (the definition's) and then the rest. */
export function barsOf(
  record: Readonly<Record<string, number>>,
  order: readonly string[] = [],
): BarItem[] {
  const seen = new Set<string>();
  const out: BarItem[] = [];
  for (const k of [...order, ...Object.keys(record)]) {
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ label: k, value: record[k] ?? 0 });
  }
  return out;
}

/** 1234 ms → "1.2 s", 90 000 → "1.5 min", … */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < HOUR_MS) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 24 * HOUR_MS) return `${(ms / HOUR_MS).toFixed(1)} h`;
  return `${(ms / (24 * HOUR_MS)).toFixed(1)} d`;
}

/** Run `fn` over `items`, at most `limit` at a time (the list polls stats this way). */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
